extension Operations {
    /// `diff`: two models (bundles, directories or registry references), each through the one
    /// check pipeline, compared.
    package static func diff(
        _ before: String, _ after: String, registry: RegistryOptions = RegistryOptions(), context: RunContext
    ) throws -> ModelDiff {
        func verdict(_ model: String) throws -> ModelVerdict {
            guard ImageReference.looksLikeReference(model, pathExists: FileSystem.exists(model)) else {
                return try ModelCheck.check(model, context: context)
            }
            return try withPulledBundle(try ImageReference(parsing: model), registry: registry, context: context) {
                bundle, _ in try ModelCheck.check(bundle, context: context)
            }
        }
        return ModelDiff.compare(try verdict(before), try verdict(after), before: before, after: after)
    }
}
