/** A host as it goes into a URL: an IPv6 literal in brackets, anything else as it is. */
export const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);
