/** Exit codes, as terraform's -detailed-exitcode has them. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
/** Only with --detailed-exitcode: the plan has changes. */
export const EXIT_CHANGES = 2;
/** Stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;
