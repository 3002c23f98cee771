// What the manager refuses, in terms the API maps to OpenStack faults in one place.
export class InvalidRequest extends Error {
  readonly code = 400;
}
export class NotFound extends Error {
  readonly code = 404;
}
