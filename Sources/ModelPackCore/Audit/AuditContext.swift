/// What the audit knows of the model around an artifact: the top-level Python modules the bundle
/// ships (`name.py`, `name/__init__.py`) and the modules metadata.yaml's `trusted_modules` names
/// (recorded in the manifest as `trustedModules`), against which unknown imports are judged (a
/// dangerous one never is accepted); and the run's limits, which the audit holds every artifact to
/// (a pickle scan's, and the unpack limits for what a compressed stream expands to).
package struct AuditContext: Sendable, Equatable {
    package var bundleModules: Set<String> = []
    package var trustedModules: Set<String> = []
    package var limits: Limits

    package init(bundleModules: Set<String> = [], trustedModules: Set<String> = [], limits: Limits) {
        self.bundleModules = bundleModules
        self.trustedModules = trustedModules
        self.limits = limits
    }

    /// The model's files as paths relative to its root.
    init(paths: [String], trustedModules: [String], limits: Limits) {
        self.init(bundleModules: Self.modules(in: paths), trustedModules: Set(trustedModules), limits: limits)
    }

    /// Why an import of `module.name` is accepted, or nil. A trusted name covers its submodules
    /// (`acme` covers `acme.features`). Trust covers the module's own names, not an attribute
    /// chain that walks through another module (`acme` + `json.decoder.x`): a chain with a part
    /// that names a standard-library module is never accepted.
    func accepts(module: String, name: String = "") -> String? {
        if name.split(separator: ".").dropLast().contains(where: { PythonStandardLibrary.modules.contains(String($0)) })
        {
            return nil
        }
        let top = String(module.split(separator: ".").first ?? "")
        if bundleModules.contains(top) { return "shipped in the bundle" }
        var prefix = ""
        for part in module.split(separator: ".") {
            prefix = prefix.isEmpty ? String(part) : prefix + "." + part
            if trustedModules.contains(prefix) { return "trusted by metadata.yaml" }
        }
        return nil
    }

    /// Top-level Python modules a model ships: `name.py` at the top, or `name/__init__.py`.
    static func modules(in paths: [String]) -> Set<String> {
        Set(
            paths.compactMap { path -> String? in
                guard path.hasSuffix(".py") else { return nil }  // most paths: no split
                let parts = path.split(separator: "/")
                if parts.count == 1, path.hasSuffix(".py") { return String(path.dropLast(3)) }
                if parts.count >= 2, parts.last == "__init__.py" { return String(parts[0]) }
                return nil
            })
    }
}
