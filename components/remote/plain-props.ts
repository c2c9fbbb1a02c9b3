// Pulumi's wire format (protobuf Struct) has no `undefined`: a property
// without a value is left out instead.
export function withoutUndefined<T extends object>(props: T): T {
  return Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined)) as T;
}
