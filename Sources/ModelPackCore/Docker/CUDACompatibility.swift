import Foundation

/// What a CUDA image is built on, derived from the framework pins.
package struct CUDAStack: Sendable, Equatable {
    /// `X.Y`.
    package let cuda: String
    /// The nvidia/cuda base image tag.
    package let image: String
    /// Extra package indexes (torch's cuXYZ index).
    package let indexes: [String]
    /// Requirement lines that add the extras which make pip install the CUDA libraries
    /// (`tensorflow[and-cuda]==2.16.1`), merged with the model's own requirements.
    package let extras: [String]
    /// Python statements run in the image at build time: the build fails if a framework came
    /// without CUDA support, rather than shipping a CPU wheel silently.
    package let checks: [String]
    /// One line per framework, for the Dockerfile's comments.
    package let reasons: [String]
}

/// Chooses the CUDA release for `dockerfile --target cuda` from the pins of torch, tensorflow,
/// jax and onnxruntime-gpu in requirements.txt, with the table in `CUDACompatibility+Table.swift`
/// (sources and date inside). The rule: every pinned framework constrains the CUDA release; the
/// newest base image that satisfies all of them (and `--cuda`, when given) wins; anything else
/// is an error that says which pin or flag disagrees and what would agree.
package enum CUDACompatibility {
    struct Table: Decodable {
        struct Images: Decodable {
            struct Tag: Decodable {
                let cuda: String
                let ubuntu: String
            }
            let source: String
            let tags: [Tag]
        }
        struct Framework: Decodable {
            struct Series: Decodable {
                let release: String
                let cuda: [String]
            }
            let distribution: String
            let source: String
            let match: String
            let wheelIndex: String?
            let extra: String?
            let check: String?
            let series: [Series]
        }
        let updated: String
        let images: Images
        let frameworks: [Framework]
    }

    static let table: Table = {
        do {
            return try JSONDecoder().decode(Table.self, from: Data(tableJSON.utf8))
        } catch {
            preconditionFailure("the CUDA compatibility table does not decode: \(error)")
        }
    }()

    /// `X.Y` of a version text; nil when it has no minor part.
    static func release(_ version: String) -> [Int]? {
        let parts = version.split(separator: ".").prefix(2).compactMap { Int($0) }
        return parts.count == 2 ? parts : nil
    }

    static func name(_ release: [Int]) -> String { release.map(String.init).joined(separator: ".") }

    /// A framework's constraint: which image releases it accepts, and why.
    struct Constraint {
        let framework: Table.Framework
        let requirement: Requirement
        let version: String
        let allowed: [[Int]]

        func accepts(_ image: [Int]) -> Bool {
            if framework.match == "exact" { return allowed.contains(image) }
            return allowed.contains { $0[0] == image[0] && $0[1] <= image[1] }
        }

        var wheels: String {
            let list = allowed.map(CUDACompatibility.name).joined(separator: ", ")
            return framework.match == "exact"
                ? "\(framework.distribution) \(version) has wheels for CUDA \(list)"
                : "\(framework.distribution) \(version) needs CUDA \(list) or a later \(allowed[0][0]).x"
        }
    }

    /// A CUDA release as `--cuda` gives it (`12`, `12.8`, `12.8.1`): its major and minor numbers,
    /// or nil when it is not one.
    package static func cudaRelease(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil }) else { return nil }
        return Array(parts.compactMap { $0 }.prefix(2))
    }

    package static func resolve(_ requirements: [Requirement], override: String?) throws -> (
        stack: CUDAStack, warnings: [String]
    ) {
        let wanted = try override.map { text -> [Int] in
            // The CLI refuses a malformed --cuda before the run (its validate()); this is the guard.
            guard let release = cudaRelease(text) else {
                throw ModelPackError.usage("\(CommandFlag.cuda) '\(text)' is not a CUDA release like 12.8")
            }
            return release
        }
        var warnings: [String] = []
        var constraints: [Constraint] = []
        var present: [(Table.Framework, Requirement)] = []
        for framework in table.frameworks {
            guard let requirement = requirements.first(where: { $0.canonicalName == framework.distribution }) else {
                continue
            }
            present.append((framework, requirement))
            if let constraint = try constraint(framework, requirement, override: wanted, warnings: &warnings) {
                constraints.append(constraint)
            }
        }
        if present.isEmpty && wanted == nil {
            throw ModelPackError.invalidModel(
                path: ModelDirectory.requirementsFile,
                reason: "nothing here needs CUDA (no torch, tensorflow, jax or onnxruntime-gpu): "
                    + "use \(CommandFlag.target) cpu, or give \(CommandFlag.cuda) X.Y to build on a CUDA image anyway")
        }
        let images = table.images.tags.compactMap { tag in release(tag.cuda).map { ($0, tag) } }
        // `--cuda 12.8` names a release; `--cuda 12` any 12.x.
        func isWanted(_ image: [Int]) -> Bool { wanted.map { Array(image.prefix($0.count)) == $0 } ?? true }
        if wanted != nil, !images.contains(where: { isWanted($0.0) }) {
            let known = images.map { name($0.0) }.joined(separator: ", ")
            throw ModelPackError.usage(
                "\(CommandFlag.cuda) \(name(wanted ?? [])): the table (updated \(table.updated)) has no nvidia/cuda image for it "
                    + "(known: \(known)); give \(CommandFlag.baseImage) to use your own")
        }
        let candidates = images.filter { image, _ in isWanted(image) && constraints.allSatisfy { $0.accepts(image) } }
        guard let (chosen, tag) = candidates.max(by: { $0.0.lexicographicallyPrecedes($1.0) }) else {
            let why = constraints.map(\.wheels).joined(separator: "; ")
            if let wanted {
                throw ModelPackError.invalidModel(
                    path: ModelDirectory.requirementsFile,
                    reason: "\(CommandFlag.cuda) \(name(wanted)) contradicts the pins: \(why)")
            }
            throw ModelPackError.invalidModel(
                path: ModelDirectory.requirementsFile,
                reason: "no CUDA release satisfies every pin: \(why)")
        }
        let cuda = name(chosen)
        var indexes: [String] = []
        var extras: [String] = []
        var checks: [String] = []
        var reasons: [String] = []
        for (framework, requirement) in present {
            let digits = cuda.replacingOccurrences(of: ".", with: "")
            if let index = framework.wheelIndex {
                indexes.append(index.replacingOccurrences(of: "{cuda}", with: digits))
            }
            if let extra = framework.extra {
                let missing = extra.split(separator: ",").map(String.init).filter { !requirement.extras.contains($0) }
                if !missing.isEmpty {
                    let specifiers = requirement.specifiers.map(\.description).joined(separator: ",")
                    extras.append("\(framework.distribution)[\(missing.joined(separator: ","))]\(specifiers)")
                }
            }
            if let check = framework.check { checks.append(check.replacingOccurrences(of: "{cuda}", with: cuda)) }
            let version = requirement.pinnedVersion.map(\.description) ?? "(unpinned)"
            reasons.append("\(framework.distribution) \(version): CUDA \(cuda)")
        }
        let image = "nvidia/cuda:\(tag.cuda)-base-ubuntu\(tag.ubuntu)"
        return (
            CUDAStack(cuda: cuda, image: image, indexes: indexes, extras: extras, checks: checks, reasons: reasons),
            warnings
        )
    }

    /// What one pin allows; nil when it constrains nothing (unpinned, or newer than the table, with
    /// --cuda given: then the user's choice stands, with a warning).
    static func constraint(
        _ framework: Table.Framework, _ requirement: Requirement, override: [Int]?, warnings: inout [String]
    ) throws -> Constraint? {
        let distribution = framework.distribution
        guard let pinned = requirement.pinnedVersion else {
            guard override != nil else {
                throw ModelPackError.invalidModel(
                    path: ModelDirectory.requirementsFile,
                    reason: "\(distribution) is not pinned with ==, so its CUDA build cannot be chosen: "
                        + "pin it, or give \(CommandFlag.cuda) X.Y")
            }
            warnings.append("\(distribution) is not pinned: \(CommandFlag.cuda) is not checked against it")
            return nil
        }
        let version = pinned.publicVersion.description
        var allowed: [[Int]]
        if let series = framework.series.first(where: { release($0.release) == release(version) }) {
            allowed = series.cuda.compactMap(release)
        } else {
            let newest = framework.series.compactMap { release($0.release) }.max {
                $0.lexicographicallyPrecedes($1)
            }
            let isNewer = (release(version) ?? [0, 0]).lexicographicallyPrecedes(newest ?? [0, 0]) == false
            guard isNewer, override != nil else {
                let known = framework.series.map(\.release).joined(separator: ", ")
                throw ModelPackError.invalidModel(
                    path: ModelDirectory.requirementsFile,
                    reason: isNewer
                        ? "\(distribution) \(version) is newer than the CUDA table (updated \(table.updated), "
                            + "releases \(known)): give \(CommandFlag.cuda) X.Y for the CUDA its wheels are built for"
                        : "\(distribution) \(version) has no CUDA wheels the table knows (releases \(known))")
            }
            warnings.append(
                "\(distribution) \(version) is newer than the CUDA table (updated \(table.updated)): using \(CommandFlag.cuda) as given"
            )
            return nil
        }
        // A local version names the build: +cpu contradicts a CUDA image; +cu126 picks one.
        if let local = pinned.local.first {
            if local == "cpu" {
                throw ModelPackError.invalidModel(
                    path: ModelDirectory.requirementsFile,
                    reason:
                        "\(distribution)==\(pinned) is the CPU build, which contradicts \(CommandFlag.target) cuda: "
                        + "drop the +cpu local version for the CUDA image")
            }
            if local.hasPrefix("cu"), let digits = Int(local.dropFirst(2)), digits >= 100 {
                let named = [digits / 10, digits % 10]
                guard allowed.contains(named) else {
                    throw ModelPackError.invalidModel(
                        path: ModelDirectory.requirementsFile,
                        reason: "\(distribution)==\(pinned): the table has no \(local) build of \(version) "
                            + "(it has \(allowed.map(name).joined(separator: ", ")))")
                }
                allowed = [named]
            }
        }
        return Constraint(framework: framework, requirement: requirement, version: version, allowed: allowed)
    }
}
