import Foundation

/// `modelpack dockerfile`: a complete, deterministic build context.
///
///     Dockerfile (or Dockerfile.cpu, Dockerfile.cuda)
///     .dockerignore
///     model/      the verified bundle, but for Python code (weights, metadata, requirements)
///     code/       the bundle's Python files (interface.py and its helpers)
///     requirements/ requirements.txt and every file it includes (-r, -c), paths kept, as pip reads them
///     runtime/    the serving runtime: server.py, its pinned requirements, serving.json
///
/// `Operations.dockerfile` runs the checks first: a model they refuse gets no context. Everything is written into a temporary directory next to the output and renamed into place;
/// an error names the output, never the temporary directory.
package enum BuildContext {
    package struct Options: Sendable {
        package var bundle: String
        package var output: String
        package var targets: [DockerfileOptions.Target]
        package var python: String?
        package var baseImage: String?
        package var pinFile: String?
        /// `--cuda X.Y`: the CUDA release for the cuda target (checked against the pins).
        package var cuda: String?
        package var force = false
        /// The model card (Markdown), written to runtime/card.md: the image serves it at GET /card.
        package var card: String?

        package init(
            bundle: String, output: String, targets: [DockerfileOptions.Target], python: String? = nil,
            baseImage: String? = nil, pinFile: String? = nil, cuda: String? = nil, force: Bool = false
        ) {
            self.cuda = cuda
            self.bundle = bundle
            self.output = output
            self.targets = targets
            self.python = python
            self.baseImage = baseImage
            self.pinFile = pinFile
            self.force = force
        }
    }

    package struct Result: Sendable {
        package let dockerfiles: [String]
        package let warnings: [String]
        package let digest: String
    }

    package static func write(_ options: Options, context: RunContext) throws -> Result {
        if FileSystem.exists(options.output) && !options.force {
            throw ModelPackError.destinationExists(path: options.output)
        }
        let pins = try options.pinFile.map(readPins) ?? [:]
        TemporaryOutput.removeStale(nextTo: options.output)
        let staging = TemporaryOutput.path(nextTo: options.output)
        TemporaryOutput.register(staging)
        defer { TemporaryOutput.unregister(staging) }
        do {
            try FileSystem.makeDirectory(staging)
            let summary = try Unpacker.unpack(
                options.bundle, to: staging + "/model", force: false, context: context)
            try FileSystem.makeDirectory(staging + "/code")
            for file in summary.manifest.files where file.path.hasSuffix(".py") {
                try move(file.path, from: staging + "/model", to: staging + "/code")
            }
            let metadataBytes = try FileSystem.readWholeFile(
                staging + "/model/" + ModelDirectory.metadataFile,
                limit: context.limits.yaml.maxBytes)
            let root = try YAMLReader.parse(metadataBytes, limits: context.limits.yaml)
            for file in RequirementsFile.read(in: staging + "/model").files {
                let target = staging + "/requirements/" + file
                try FileSystem.makeDirectories(FileSystem.parentDirectory(of: target))
                try FileSystem.writeAtomically(
                    try FileSystem.readWholeFile(staging + "/model/" + file, limit: Limits.maxTextBytes),
                    to: target)
            }
            var warnings: [String] = []
            let python: String
            let declared = root?["python"]?.scalar.flatMap { $0.isEmpty ? nil : $0 }
            if let given = options.python {
                // The flag wins (it is asked for by name), and says so when metadata differs.
                python = given
                if let declared, declared != given {
                    warnings.append(
                        "\(CommandFlag.python) \(given) replaces metadata.yaml's python \(declared): the image runs Python \(given)"
                    )
                }
            } else if let fromMetadata = declared {
                python = fromMetadata
            } else {
                python = "3.11"
                warnings.append(
                    "metadata.yaml gives no python version: the image uses Python 3.11 (set 'python' or \(CommandFlag.python))"
                )
            }
            guard python.split(separator: ".").count == 2, python.split(separator: ".").allSatisfy({ Int($0) != nil })
            else {
                throw ModelPackError.usage("python version '\(python)' is not X.Y")
            }
            try FileSystem.makeDirectory(staging + "/runtime")
            for file in ServingRuntime.files {
                try FileSystem.writeAtomically(Array(file.text.utf8), to: staging + "/runtime/" + file.name)
            }
            try FileSystem.writeAtomically(
                try ServingDescription.json(fromMetadata: metadataBytes, limits: context.limits),
                to: staging + "/runtime/serving.json")
            if let card = options.card {
                try FileSystem.writeAtomically(Array(card.utf8), to: staging + "/runtime/card.md")
            }
            try FileSystem.writeAtomically(
                Array(".git\n**/__pycache__\n**/*.pyc\nDockerfile*\n.dockerignore\n".utf8),
                to: staging + "/.dockerignore")
            let model = DockerModel(
                name: summary.manifest.name, version: summary.manifest.version,
                license: root?["license"]?.scalar, description: root?["description"]?.scalar,
                digest: summary.digest)
            var dockerfiles: [String] = []
            for target in options.targets {
                let name = options.targets.count == 1 ? "Dockerfile" : "Dockerfile." + target.rawValue
                let dockerOptions = DockerfileOptions(
                    target: target, python: python, baseImage: options.baseImage, pins: pins,
                    created: SourceDate.timestamp())
                var cuda: CUDAStack?
                if target == .cuda {
                    let (stack, notes) = try CUDACompatibility.resolve(
                        RequirementsFile.read(in: staging + "/model").entries.compactMap(\.requirement),
                        override: options.cuda)
                    warnings += notes
                    if !stack.extras.isEmpty {
                        try FileSystem.writeAtomically(
                            Array((stack.extras.joined(separator: "\n") + "\n").utf8),
                            to: staging + "/" + DockerfileGenerator.cudaRequirements)
                    }
                    cuda = stack
                }
                let base = options.baseImage ?? cuda?.image ?? "python:\(python)-slim"
                let text = DockerfileGenerator.generate(
                    model: model, options: dockerOptions, base: base, cuda: cuda, warnings: &warnings)
                try FileSystem.writeAtomically(Array(text.utf8), to: staging + "/" + name)
                dockerfiles.append(name)
            }
            if options.force && FileSystem.exists(options.output) {
                try FileSystem.replaceDirectory(staging, options.output)
            } else {
                try FileSystem.renameNoReplace(staging, options.output)
            }
            return Result(dockerfiles: dockerfiles, warnings: warnings, digest: summary.digest)
        } catch let error as ModelPackError {
            FileSystem.removeTree(staging)
            throw error.naming(options.output, insteadOf: staging)
        } catch {
            FileSystem.removeTree(staging)
            throw error
        }
    }

    private static func move(_ path: String, from: String, to: String) throws {
        let parent = FileSystem.parentDirectory(of: to + "/" + path)
        try FileSystem.makeDirectories(parent)
        try FileSystem.rename(from + "/" + path, to + "/" + path)
    }

    /// `image:tag sha256:digest` per line (`#` comments), or JSON `{"image:tag": "sha256:..."}`.
    static func readPins(_ path: String) throws -> [String: String] {
        let bytes = try FileSystem.readWholeFile(path, limit: 1 << 20)
        if let json = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String] {
            return try checked(json, path)
        }
        var pins: [String: String] = [:]
        for (n, raw) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let line =
                raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw ModelPackError.invalidModel(
                    path: "\(path):\(n + 1)", reason: "expected 'image:tag sha256:digest'")
            }
            pins[fields[0]] = fields[1]
        }
        return try checked(pins, path)
    }

    private static func checked(_ pins: [String: String], _ path: String) throws -> [String: String] {
        for (image, digest) in pins {
            let hex = digest.dropFirst("sha256:".count)
            guard digest.hasPrefix("sha256:"), hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                throw ModelPackError.invalidModel(
                    path: path, reason: "the digest for \(image) is not sha256:<64 hex digits>")
            }
        }
        return pins
    }
}
