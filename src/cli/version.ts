/** Kiln's version, printed by `executor version` and sent as `User-Agent: kiln/<version>`. */
export const VERSION = '0.1.0';
