import Foundation

/// Why pip could not install a model's requirements, read from what it printed: the requirement
/// it could not satisfy and why, so that serve, test, predict and `validate --resolve` name the
/// line of requirements.txt (an input problem, exit 1), never the virtualenv being made. pip's
/// own words stay on stderr above the error; a package index that cannot be reached is the
/// system's failure, not the model's.
struct PipFailure: Error, Equatable {
    /// The requirement as pip printed it (`numpy==9.9.9`), and its canonical name.
    let requirement: String
    let why: String

    /// The failure pip's output shows, if it names one.
    static func read(_ output: String) -> PipFailure? {
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func after(_ marker: String) -> String? {
            for line in lines.reversed() {
                guard let range = line.range(of: marker) else { continue }
                let rest = line[range.upperBound...]
                // "numpy==9.9.9 (from versions: 1.0, ...)" or "numpy==9.9.9"
                return String(rest.split(separator: " ", maxSplits: 1).first ?? "")
                    .trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            }
            return nil
        }
        if let requirement = after("No matching distribution found for ") {
            let versions = lines.last { $0.contains("(from versions: ") }
                .flatMap { $0.components(separatedBy: "(from versions: ").last?.dropLast() }
                .map { String($0) }
            let known = versions.map { $0 == "none" ? "none" : Self.lastFew($0) }
            return PipFailure(
                requirement: requirement,
                why: known == "none"
                    ? "no such package on the package index (pip: no matching distribution)"
                    : "no such version on the package index (it has \(known ?? "others"))")
        }
        if output.contains("ResolutionImpossible") || output.contains("conflicting dependencies") {
            let conflict = lines.first { $0.hasPrefix("The conflict is caused by") }.map { _ in
                lines.drop { !$0.hasPrefix("The conflict is caused by") }.dropFirst().prefix(3)
                    .joined(separator: "; ")
            }
            // "Cannot install -r FILE (line 3) and x" names a file, not a package: then the first
            // package the user asked for that the conflict involves.
            let requested = lines.first { $0.hasPrefix("The user requested ") }
                .map { String($0.dropFirst("The user requested ".count)) }
            let names =
                after("Cannot install ").flatMap { $0.hasPrefix("-") ? nil : $0 } ?? requested ?? "the requirements"
            return PipFailure(
                requirement: names,
                why: "the requirements conflict" + (conflict.map { ": " + $0 } ?? " (pip: ResolutionImpossible)"))
        }
        if let requirement = after("Failed building wheel for ") ?? after("Failed to build ") {
            return PipFailure(
                requirement: requirement, why: "building it from source failed (no wheel for this Python)")
        }
        return nil
    }

    /// "1.0, 1.1, ..., 2.2.0" as its last five versions.
    private static func lastFew(_ versions: String) -> String {
        let all = versions.components(separatedBy: ", ")
        return (all.count > 5 ? "…, " : "") + all.suffix(5).joined(separator: ", ")
    }

    /// Whether pip's output says the package index could not be reached (then no verdict on the
    /// requirements is possible).
    static func unreachable(_ output: String) -> Bool {
        [
            "NewConnectionError", "ConnectTimeoutError", "Temporary failure in name resolution", "ProxyError",
            "Network is unreachable", "Connection refused",
        ].contains { output.contains($0) }
    }

    /// The canonical (PEP 503) name of the requirement pip named.
    var name: String {
        let head = requirement.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        return Requirement.canonicalize(String(head))
    }

    /// The error for a model: its requirements.txt line that asks for the package, when one does.
    func error(model: String, requirements: RequirementsFile) -> ModelPackError {
        let entry = requirements.entries.first { $0.requirement?.canonicalName == name }
        let place = entry.map { "\($0.file):\($0.line)" } ?? ModelDirectory.requirementsFile
        return .invalidModel(path: model, reason: "\(place): \(requirement): \(why)")
    }
}
