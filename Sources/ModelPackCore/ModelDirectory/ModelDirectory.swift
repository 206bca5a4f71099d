#if canImport(Glibc)
    import Glibc
#endif

/// A regular file found in a model directory.
struct SourceFile {
    /// Relative, `/`-separated path: the path inside the bundle.
    let path: String
    let absolutePath: String
    let size: Int64
    let executable: Bool
}

/// A model directory: the three required files plus artifacts, walked in a stable order.
///
/// Symlinks are refused, wherever they point: a bundle carries regular files only, so that what was
/// hashed is what ships and nothing outside the directory can be pulled in. Sockets, FIFOs and
/// devices are refused too. Ignored paths are not looked at.
package enum ModelDirectory {
    package static let metadataFile = "metadata.yaml"
    package static let requirementsFile = "requirements.txt"
    package static let interfaceFile = "interface.py"
    package static let ignoreFile = ".modelpackignore"
    package static let requiredFiles = [metadataFile, requirementsFile, interfaceFile]

    /// Lists the files to pack, sorted by path bytes. `excluding` holds absolute paths to leave out
    /// (the bundle being written, when it is inside the directory).
    /// What `build` would pack, one line per file (path, size, modification time): `serve
    /// --reload` rebuilds when it changes.
    static func fingerprint(_ root: String, maxPathBytes: Int) throws -> [String] {
        try scan(root: root, requireFiles: false, maxPathBytes: maxPathBytes).map { file in
            var st = stat()
            _ = lstat(file.absolutePath, &st)
            return "\(file.path) \(file.size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        }
    }

    static func scan(
        root: String, excluding: Set<String> = [], requireFiles: Bool = true, maxPathBytes: Int
    ) throws -> [SourceFile] {
        guard let rootInfo = try FileSystem.lstatInfo(root) else {
            throw ModelPackError.invalidModel(path: root, reason: "no such directory")
        }
        guard rootInfo.kind == .directory else {
            throw ModelPackError.invalidModel(path: root, reason: "not a directory")
        }
        for required in requiredFiles where requireFiles {
            let info = try FileSystem.lstatInfo(root + "/" + required)
            guard let info else {
                throw ModelPackError.invalidModel(path: root + "/" + required, reason: "required file is missing")
            }
            guard info.kind == .regular else {
                throw ModelPackError.invalidModel(
                    path: root + "/" + required, reason: "required file is not a regular file")
            }
        }
        var patterns = IgnoreRules.defaultPatterns
        let ignorePath = root + "/" + ignoreFile
        if let info = try FileSystem.lstatInfo(ignorePath), info.kind == .regular {
            let bytes = try FileSystem.readWholeFile(ignorePath, limit: 1 << 20)
            patterns += String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .map(String.init)
        }
        let rules = IgnoreRules(patterns: patterns)
        var files: [SourceFile] = []
        try walk(
            root: root, relative: "", rules: rules, excluding: excluding, maxPathBytes: maxPathBytes, into: &files)
        files.sort { BundlePath.byteOrder($0.path, $1.path) }
        var collisions: [String: String] = [:]
        for file in files {
            if let other = collisions.updateValue(file.path, forKey: BundlePath.collisionKey(file.path)) {
                throw ModelPackError.invalidModel(
                    path: file.absolutePath,
                    reason:
                        "'\(file.path)' and '\(other)' differ only in case or Unicode normalisation; they would collide when unpacked on macOS or Windows"
                )
            }
        }
        for required in requiredFiles
        where FileSystem.exists(root + "/" + required)
            && !files.contains(where: { $0.path == required })
        {
            throw ModelPackError.invalidModel(
                path: root + "/" + required, reason: "required file is excluded by \(ignoreFile)")
        }
        return files
    }

    private static func walk(
        root: String, relative: String, rules: IgnoreRules, excluding: Set<String>, maxPathBytes: Int,
        into files: inout [SourceFile]
    ) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        // A name that is not UTF-8 is an error: it cannot be a bundle's path, and left out it would
        // be a file silently missing from the bundle.
        for (name, info) in try FileSystem.listDirectoryInfo(directory) {
            let path = relative.isEmpty ? name : relative + "/" + name
            let absolute = root + "/" + path
            if relative.isEmpty && name == ".modelpack" { continue }  // reserved for the manifest
            if name.hasPrefix(TemporaryOutput.prefix) || excluding.contains(absolute) { continue }
            guard let info else { continue }  // gone since it was listed
            if rules.isIgnored(path, name: name, isDirectory: info.kind == .directory) { continue }
            if let problem = BundlePath.problem(with: path, maxPathBytes: maxPathBytes) {
                throw ModelPackError.invalidModel(path: absolute, reason: "cannot be packed: \(problem)")
            }
            switch info.kind {
            case .directory:
                try walk(
                    root: root, relative: path, rules: rules, excluding: excluding, maxPathBytes: maxPathBytes,
                    into: &files)
            case .regular:
                files.append(
                    SourceFile(path: path, absolutePath: absolute, size: info.size, executable: info.isExecutable))
            case .symlink:
                throw ModelPackError.invalidModel(
                    path: absolute,
                    reason:
                        "is a symlink; bundles hold regular files only (replace it with a copy, e.g. cp -L, or list it in \(ignoreFile))"
                )
            case .other:
                throw ModelPackError.invalidModel(
                    path: absolute, reason: "is not a regular file (socket, FIFO or device)")
            }
        }
    }
}
