import Foundation

/// A model directory as OMS signs it: every regular file under it, hidden ones too, named by its
/// path relative to the directory, leaving out what `OMSSignature.ignoredAtRoot` names at the
/// root and the signature file itself when it lies inside. A link is refused (model_signing
/// refuses one too unless told otherwise).
enum OMSDirectory {
    /// The signature's path relative to `root` when it lies inside it.
    static func inside(_ signature: String, root: String) -> String? {
        guard let realRoot = try? FileSystem.realPath(root) else { return nil }
        let parent = (try? FileSystem.realPath(FileSystem.parentDirectory(of: signature))) ?? ""
        let full = parent + "/" + FileSystem.lastComponent(of: signature)
        guard full.hasPrefix(realRoot + "/") else { return nil }
        return String(full.dropFirst(realRoot.count + 1))
    }

    /// Every file's path and SHA-256, in model_signing's order, hashed two at a time.
    static func resources(of root: String, leavingOut signature: String?, limits: UnpackLimits) throws
        -> [OMSSignature.Resource]
    {
        let skipped = Set(OMSSignature.ignoredAtRoot + [signature.flatMap { inside($0, root: root) }].compactMap { $0 })
        var paths: [String] = []
        var pending = [""]
        while let relative = pending.popLast() {
            for (name, info) in try FileSystem.listDirectoryInfo(relative.isEmpty ? root : root + "/" + relative) {
                let path = relative.isEmpty ? name : relative + "/" + name
                if skipped.contains(path) { continue }
                switch info?.kind {
                case .directory?: pending.append(path)
                case .regular?: paths.append(path)
                case .symlink?:
                    throw ModelPackError.invalidModel(
                        path: root + "/" + path, reason: "is a link, which an OMS signature does not cover")
                default: continue
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

    /// Signs the directory into `output` (OMS, ECDSA): returns the key id and the subject digest.
    static func sign(_ root: String, key: PrivateKey, output: String, limits: UnpackLimits) throws -> (
        keyID: String, digest: String
    ) {
        let resources = try resources(of: root, leavingOut: output, limits: limits)
        let ignore = OMSSignature.ignoredAtRoot + [inside(output, root: root)].compactMap { $0 }
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
            return (report, .invalid(failure.reason))
        case .success(let signed):
            let files = try resources(of: root, leavingOut: signature, limits: limits)
            let byName = Dictionary(signed.resources.map { ($0.name, $0.digest) }, uniquingKeysWith: { a, _ in a })
            var checks: [FileCheck] = []
            for file in files {
                switch byName[file.name] {
                case nil:
                    checks.append(FileCheck(path: file.name, status: .extra, detail: "not signed"))
                case file.digest?:
                    checks.append(FileCheck(path: file.name, status: .ok, detail: nil))
                case let signedDigest?:
                    checks.append(
                        FileCheck(path: file.name, status: .modified, detail: "signed as sha256 \(signedDigest)"))
                }
            }
            let present = Set(files.map(\.name))
            for resource in signed.resources where !present.contains(resource.name) {
                checks.append(FileCheck(path: resource.name, status: .missing, detail: "signed, not there"))
            }
            let report = VerifyReport(
                path: root, digest: "sha256:" + OMSSignature.rootDigest(signed.resources)!,
                listed: signed.resources.count, files: checks, readError: nil)
            return (report, .valid(keyID: signed.keyID))
        }
    }
}
