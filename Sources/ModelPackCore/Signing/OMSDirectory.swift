import Foundation

/// A model directory as OMS signs it: every regular file under it, hidden ones too, named by its
/// path relative to the directory, leaving out git's files at the root (`ignoredAtRoot`, as
/// model_signing does) and the signature file itself when it lies inside. A link or a special
/// file is refused (model_signing refuses both too, unless told to follow links).
enum OMSDirectory {
    /// The signature's path relative to `root` when it lies inside it.
    static func inside(_ signature: String, root: String) -> String? {
        guard let realRoot = try? FileSystem.realPath(root) else { return nil }
        let parent = (try? FileSystem.realPath(FileSystem.parentDirectory(of: signature))) ?? ""
        let full = parent + "/" + FileSystem.lastComponent(of: signature)
        guard full.hasPrefix(realRoot + "/") else { return nil }
        return String(full.dropFirst(realRoot.count + 1))
    }

    /// Every file's path and SHA-256, in model_signing's order, hashed two at a time. `skip`:
    /// paths (relative) left out besides git's at the root. A link or a special file is refused.
    static func resources(of root: String, leavingOut skip: Set<String>, limits: UnpackLimits) throws
        -> [OMSSignature.Resource]
    {
        // As bytes: a name canonically equivalent to a skipped one (NFC and NFD) is another file.
        let skipped = Set((OMSSignature.ignoredAtRoot + Array(skip)).map { Array($0.utf8) })
        var paths: [String] = []
        var pending = [""]
        while let relative = pending.popLast() {
            for (name, info) in try FileSystem.listDirectoryInfo(relative.isEmpty ? root : root + "/" + relative) {
                let path = relative.isEmpty ? name : relative + "/" + name
                if skipped.contains(Array(path.utf8)) { continue }
                switch info?.kind {
                case .directory?: pending.append(path)
                case .regular?: paths.append(path)
                case .symlink?:
                    throw ModelPackError.invalidModel(
                        path: root + "/" + path, reason: "is a link, which an OMS signature does not cover")
                case .other?:
                    throw ModelPackError.invalidModel(
                        path: root + "/" + path, reason: "is not a regular file (a FIFO, socket or device)")
                case nil: continue  // gone meanwhile
                }
                if paths.count > limits.maxEntries {
                    throw ModelPackError.invalidModel(
                        path: root, reason: "holds more than \(limits.maxEntries) files (\(CommandFlag.maxEntries))")
                }
            }
        }
        let files = paths
        let results = Results(count: files.count)
        DispatchQueue.concurrentPerform(iterations: min(2, max(files.count, 1))) { worker in
            for index in stride(from: worker, to: files.count, by: 2) {
                do {
                    results.set(index, try hash(root + "/" + files[index]))
                } catch {
                    results.fail(error)
                    return
                }
            }
        }
        let digests = try results.values()
        return OMSSignature.ordered(zip(files, digests).map { OMSSignature.Resource(name: $0, digest: $1) })
    }

    /// The digests the hashing workers find, or the first error one met.
    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var digests: [String?]
        private var failure: (any Error)?

        init(count: Int) { digests = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ digest: String) { lock.withLock { digests[index] = digest } }
        func fail(_ error: any Error) { lock.withLock { failure = failure ?? error } }
        func values() throws -> [String] {
            try lock.withLock {
                if let failure { throw failure }
                return digests.map { $0! }
            }
        }
    }

    /// A file's SHA-256, read in 1 MiB pieces.
    static func hash(_ path: String) throws -> String {
        let file = try InputFile(path: path)
        var stream = SHA256Stream()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = try file.read(into: buffer)
            if n == 0 { break }
            stream.update(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        }
        return stream.finalizeHex()
    }

    /// `DIR.sig` beside a directory, by its real name (`sign .` does not write `..sig` inside it).
    static func besideSignature(_ root: String) throws -> String {
        let real = try FileSystem.realPath(root)
        return FileSystem.parentDirectory(of: real) + "/" + FileSystem.lastComponent(of: real) + ".sig"
    }

    /// Signs the directory into `output` (OMS, ECDSA): returns the key id and the subject digest.
    static func sign(_ root: String, key: PrivateKey, output: String, limits: UnpackLimits) throws -> (
        keyID: String, digest: String
    ) {
        let own = inside(output, root: root)
        let resources = try resources(of: root, leavingOut: Set([own].compactMap { $0 }), limits: limits)
        let ignore = OMSSignature.ignoredAtRoot + [own].compactMap { $0 }
        let name = FileSystem.lastComponent(of: try FileSystem.realPath(root))
        let bytes = try OMSSignature.sign(resources: resources, subject: name, ignore: ignore, key: key)
        try FileSystem.writeAtomically(bytes, to: output)
        return (key.publicKey.keyID, "sha256:" + OMSSignature.rootDigest(resources)!)
    }

    /// Checks an OMS signature of a plain model directory: the signature first, then every file
    /// against what it signs (modified, missing, or extra: not signed).
    static func verify(_ root: String, signature: String, trusted: [PublicKey], limits: UnpackLimits) throws
        -> (VerifyReport, BundleSignature.Verdict)
    {
        try FileSystem.requireRegularFile(signature)
        let bytes = try FileSystem.readWholeFile(signature, limit: BundleSignature.maxEnvelopeBytes)
        guard OMSSignature.isOMS(bytes) else {
            throw ModelPackError.invalidModel(
                path: signature,
                reason: "is not an OMS signature (a Sigstore bundle), which is what signs a model directory")
        }
        switch OMSSignature.checked(bytes, trusted: trusted) {
        case .failure(let failure):
            let report = VerifyReport(
                path: root, digest: OMSSignature.subjectDigest(bytes) ?? "", listed: 0, files: [], readError: nil)
            return (report, .invalid("\(signature): \(failure.reason)"))
        case .success(let signed):
            // Left out: the signature checked, and any other signature file the statement names
            // as ignored (model_signing's `DIR/model.sig`, verified from a copy elsewhere).
            var skip = Set([inside(signature, root: root)].compactMap { $0 })
            for path in signed.ignorePaths where !path.contains("..") {
                let full = root + "/" + path
                if (try? FileSystem.lstatInfo(full))??.kind == .regular,
                    let head = try? FileSystem.readWholeFile(full, limit: BundleSignature.maxEnvelopeBytes),
                    OMSSignature.isOMS(head)
                {
                    skip.insert(path)
                }
            }
            let files = try resources(of: root, leavingOut: skip, limits: limits)
            // As bytes: a name canonically equivalent to a signed one (NFC and NFD) is another file.
            let byName = Dictionary(
                signed.resources.map { (Array($0.name.utf8), $0.digest) }, uniquingKeysWith: { a, _ in a })
            var checks: [FileCheck] = []
            for file in files {
                switch byName[Array(file.name.utf8)] {
                case nil:
                    checks.append(FileCheck(path: file.name, status: .extra, detail: "not signed"))
                case file.digest?:
                    checks.append(FileCheck(path: file.name, status: .ok, detail: nil))
                case let signedDigest?:
                    checks.append(
                        FileCheck(path: file.name, status: .modified, detail: "signed as sha256 \(signedDigest)"))
                }
            }
            let present = Set(files.map { Array($0.name.utf8) })
            for resource in signed.resources where !present.contains(Array(resource.name.utf8)) {
                checks.append(FileCheck(path: resource.name, status: .missing, detail: "signed, not there"))
            }
            let report = VerifyReport(
                path: root, digest: "sha256:" + OMSSignature.rootDigest(signed.resources)!,
                listed: signed.resources.count, files: checks, readError: nil)
            return (report, .valid(keyID: signed.keyID))
        }
    }
}
