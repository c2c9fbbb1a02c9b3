// Loads a provider's logic module inside Pulumi's dynamic provider process.
//
// Pulumi serialises a dynamic provider's methods into state and runs them in a
// separate plain-node process. Keeping those methods one line long and loading
// the real logic by path keeps state small and lets the logic import freely.
// The methods must not capture this module's `require` (the serialiser would
// try to copy the whole module cache), so they reach Node's loader through the
// provider process's main module. That process has no TypeScript loader, so
// one is registered for .ts sources.

export function loadLogic<T>(modulePath: string): T {
  const load = process.mainModule!.require("module").createRequire(modulePath);
  if (modulePath.endsWith(".ts") && !load.extensions[".ts"]) {
    load("ts-node").register({ transpileOnly: true, compilerOptions: { module: "commonjs" } });
  }
  return load(modulePath) as T;
}

/** The methods a logic module exports for a dynamic provider. */
export interface ProviderLogic {
  diff(id: string, olds: any, news: any): Promise<import("@pulumi/pulumi").dynamic.DiffResult>;
  create(inputs: any): Promise<import("@pulumi/pulumi").dynamic.CreateResult>;
  update(id: string, olds: any, news: any): Promise<import("@pulumi/pulumi").dynamic.UpdateResult>;
  remove(id: string, props: any): Promise<void>;
  read(id: string, props: any): Promise<import("@pulumi/pulumi").dynamic.ReadResult>;
}

/** A dynamic provider whose every method is one call into the logic module at `logicPath`. */
export function providerFor(logicPath: string): import("@pulumi/pulumi").dynamic.ResourceProvider {
  return {
    diff: (id, olds, news) => loadLogic<ProviderLogic>(logicPath).diff(id, olds, news),
    create: (inputs) => loadLogic<ProviderLogic>(logicPath).create(inputs),
    update: (id, olds, news) => loadLogic<ProviderLogic>(logicPath).update(id, olds, news),
    delete: (id, props) => loadLogic<ProviderLogic>(logicPath).remove(id, props),
    read: (id, props) => loadLogic<ProviderLogic>(logicPath).read(id, props),
  };
}
