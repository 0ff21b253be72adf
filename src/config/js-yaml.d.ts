// The part of js-yaml 4 the config reader uses (the package ships no types; src/config/yaml.ts).
declare module 'js-yaml' {
  export interface Type {
    readonly tag: string
  }
  export interface Schema {
    extend(types: Type[] | { implicit?: Type[]; explicit?: Type[] }): Schema
  }
  export const CORE_SCHEMA: Schema
  export const types: { readonly merge: Type }
  export function load(text: string, options?: { schema?: Schema; filename?: string; json?: boolean }): unknown
  const jsYaml: { CORE_SCHEMA: Schema; types: { readonly merge: Type }; load: typeof load }
  export default jsYaml
}
