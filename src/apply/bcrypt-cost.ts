/** The cost vantage6 uses (Python bcrypt.gensalt()'s default). A module of its own: the CLI reads it without loading bcrypt. */
export const DEFAULT_BCRYPT_COST = 12;
