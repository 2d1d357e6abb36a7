import { domainToASCII } from 'node:url';

/**
 * The characters IDNA 2003 maps away and IDNA 2008 keeps (UTS #46's
 * deviations): a domain with them is another domain in each.
 */
const DEVIATIONS: readonly (readonly [RegExp, string])[] = [[/ß/g, 'ss'], [/ς/g, 'σ'], [/[\u200C\u200D]/g, '']];

/** Code points Unicode 3.2 (IDNA 2003's) had not assigned that people put in domains: IDNA 2003 refuses them. */
const UNASSIGNED_IN_IDNA2003 = /\p{Extended_Pictographic}/u;

/** The longest label DNS takes, in ASCII. */
const MAX_LABEL = 63;

/**
 * A domain's ASCII form as IDNA 2003 makes it (Java's `IDN.toASCII`, which
 * Keycloak checks and sends mail with): deviations mapped, then punycode;
 * null where IDNA 2003 refuses it.
 */
export function idna2003Ascii(domain: string): string | null {
  let mapped = domain.normalize('NFKC').toLowerCase();
  for (const [from, to] of DEVIATIONS) mapped = mapped.replace(from, to);
  if (UNASSIGNED_IN_IDNA2003.test(mapped)) return null;
  const ascii = domainToASCII(mapped);
  if (ascii === '' || ascii.split('.').some((label) => label.length > MAX_LABEL)) return null;
  return ascii;
}

/** A domain's ASCII form as IDNA 2008 (UTS #46, nontransitional) makes it, which browsers and most mail servers use; null where refused. */
export function idna2008Ascii(domain: string): string | null {
  const ascii = domainToASCII(domain);
  return ascii === '' ? null : ascii;
}

/** Whether IDNA 2003 and IDNA 2008 read the domain as two different domains (it has ß, final ς or a joiner). */
export function idnaFormsDiffer(domain: string): boolean {
  const old = idna2003Ascii(domain);
  const current = idna2008Ascii(domain);
  return old !== null && current !== null && old !== current;
}
