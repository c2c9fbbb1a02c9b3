// The parts of @pulumi/pulumi the components use, taken from the SDK's own
// modules. The package's index also loads the automation API, dynamic
// providers and closure serialization with the TypeScript compiler: some 700
// more modules and about 0.6 s of CPU on every program run, twice per
// `pulumi up` (preview, then update). The classes and types are the same
// ones the index exports, so a program that imports "@pulumi/pulumi" passes
// its Inputs, Outputs and resource options to the components unchanged.
export * from "@pulumi/pulumi/resource";
export * from "@pulumi/pulumi/output";
export { RunError } from "@pulumi/pulumi/errors";
export { getProject } from "@pulumi/pulumi/metadata";
export * as log from "@pulumi/pulumi/log";
export * as runtime from "@pulumi/pulumi/runtime/config";
