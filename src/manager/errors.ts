// What the manager refuses, in terms the API maps to OpenStack faults in one place.
export class InvalidRequest extends Error {
  readonly code = 400;
}
export class NotFound extends Error {
  readonly code = 404;
}
/** Refused by a limit of this deployment, as Cinder's quota errors are (413 overLimit, Retry-After: 0). */
export class OverLimit extends Error {
  readonly code = 413;
}
/** Refused outright, as Nova refuses too many metadata items (403). */
export class Forbidden extends Error {
  readonly code = 403;
}
/** The request names something that exists already (Cinder's 409, e.g. a group type's name). */
export class Conflict extends Error {
  readonly code = 409;
}
