import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The distribution API's blob and manifest calls.
extension RegistryClient {
    private var repositoryPath: String { "/v2/\(reference.repository)" }

    /// Hosts known to refuse or break chunked uploads (the reference's KitOps notes): GHCR answers
    /// 416 to PATCH bodies over 4 MiB, Google's Artifact Registry has no chunked upload, ECR ends
    /// the upload after the first part. Large blobs go to them in one streamed PUT, as they go to
    /// any registry with `monolithic` set.
    var wantsMonolithic: Bool {
        let host = reference.host
        return options.monolithic || host == "ghcr.io" || host.hasSuffix(".pkg.dev") || host == "gcr.io"
            || host.hasSuffix(".gcr.io") || (host.contains(".ecr.") && host.hasSuffix(".amazonaws.com"))
    }

    func blobExists(_ digest: String) throws -> Bool {
        let response = try send(HTTPRequest(method: "HEAD", url: url("\(repositoryPath)/blobs/\(digest)")))
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw failure(response, "blob \(digest)")
        }
    }

    enum UploadStart {
        case mounted
        case session(URL, minimumChunk: Int?)
    }

    /// Opens an upload, asking to mount `digest` from repository `from` first when given (201:
    /// mounted, nothing to send; 202: the registry declined and opened an upload instead).
    func startUpload(digest: String, from: String? = nil) throws -> UploadStart {
        var path = "\(repositoryPath)/blobs/uploads/"
        if let from {
            path += "?mount=\(digest)&from=\(from)"
        }
        let response = try send(HTTPRequest(method: "POST", url: url(path), headers: ["Content-Length": "0"]))
        if response.status == 201, from != nil { return .mounted }
        guard response.status == 202, let location = response.header("location") else {
            throw failure(response, "an upload of \(digest)")
        }
        return .session(
            try url(location: location), minimumChunk: response.header("oci-chunk-min-length").flatMap { Int($0) })
    }

    /// `location` with `digest=` added to its query.
    private func finishing(_ location: URL, digest: String) throws -> URL {
        guard var components = URLComponents(url: location, resolvingAgainstBaseURL: false) else {
            throw ModelPackError.registry(reference: reference.text, reason: "the registry gave a bad upload location")
        }
        var items = components.queryItems ?? []
        items.append(URLQueryItem(name: "digest", value: digest))
        components.queryItems = items
        return components.url!
    }

    enum SmallUpload { case present, mounted, uploaded }

    /// Uploads one blob in memory with a single PUT (small blobs: metadata, configs, manifests),
    /// unless the registry has it or mounts it.
    @discardableResult
    func uploadBlob(_ data: Data, digest: String, known: Bool? = nil, from: String? = nil) throws -> SmallUpload {
        if try known ?? blobExists(digest) { return .present }
        guard case .session(let location, _) = try startUpload(digest: digest, from: from) else { return .mounted }
        _ = try putWhole(location, digest: digest, body: .data(data), readMatches: { true })
        return .uploaded
    }

    /// Streams a blob of `size` bytes from `read` (0 at its end) to an open upload: one PUT when it
    /// fits in a chunk, else PATCHes of the chunk size and a closing PUT (or, for hosts that want
    /// it, one PUT of a file spooled under `spoolDirectory`). `read`'s source hashes what it hands
    /// out (push's bundle walk, on its hasher's thread); before the closing PUT, `readMatches` must
    /// say the bytes read are the blob. If not, the upload is abandoned and nil returned (the
    /// caller's walk reports the entry). Returns the bytes sent.
    func uploadBlob(
        at location: URL, minimumChunk: Int?, digest: String, size: Int64, spoolDirectory: String,
        moved: (Int64) -> Void = { _ in }, read: (UnsafeMutableRawBufferPointer) throws -> Int,
        readMatches: () throws -> Bool
    ) throws -> Int64? {
        let chunkSize = max(options.chunkSize, minimumChunk ?? 0)
        // One buffer for every chunk of the blob; each request gets a view of it, not a copy
        // (the request is over before the buffer is filled again).
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { raw.deallocate() }
        var filled = 0
        var chunk: Data { Data(bytesNoCopy: raw.baseAddress!, count: filled, deallocator: .none) }
        func fill() throws -> Int {
            filled = 0
            while filled < chunkSize {
                let n = try read(UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
                if n == 0 { break }
                filled += n
            }
            return filled
        }
        _ = try fill()
        if Int64(filled) == size || filled < chunkSize {
            // One PUT: the whole blob is in the chunk.
            guard try putWhole(location, digest: digest, body: .data(chunk), readMatches: readMatches) else {
                return nil
            }
            moved(Int64(filled))
            return Int64(filled)
        }
        if wantsMonolithic {
            return try uploadSpooled(
                at: location, digest: digest, size: size, first: chunk, spoolDirectory: spoolDirectory,
                moved: moved, read: read, readMatches: readMatches)
        }
        var location = location
        var offset: Int64 = 0
        while filled > 0 {
            location = try patch(location, at: offset, Int64(filled), body: .data(chunk), digest: digest)
            offset += Int64(filled)
            moved(Int64(filled))
            _ = try fill()
        }
        return try close(location, digest: digest, readMatches: readMatches) ? offset : nil
    }

    /// Uploads bytes `range` of the file at `path` (a blob lying as it is in the bundle) to an
    /// open upload, each request's body read from the file as it is sent (no buffer of ours): one
    /// streamed PUT when the blob fits in a chunk or the host wants it whole, else PATCHes of the
    /// chunk size and a closing PUT. The PUT that closes the upload goes only once `readMatches`
    /// says the bytes are the blob (push's bundle walk hashes them); if not, the upload is
    /// abandoned and nil returned. Returns the bytes sent.
    func uploadBlob(
        at location: URL, minimumChunk: Int?, digest: String, path: String, range: Range<Int64>,
        moved: (Int64) -> Void = { _ in }, readMatches: () throws -> Bool
    ) throws -> Int64? {
        let size = Int64(range.count)
        let chunkSize = Int64(max(options.chunkSize, minimumChunk ?? 0))
        if size <= chunkSize || wantsMonolithic {
            guard try putWhole(location, digest: digest, body: .range(path, range), readMatches: readMatches) else {
                return nil
            }
            moved(size)
            return size
        }
        var location = location
        var offset: Int64 = 0
        while offset < size {
            let length = min(chunkSize, size - offset)
            let start = range.lowerBound + offset
            location = try patch(
                location, at: offset, length, body: .range(path, start..<start + length), digest: digest)
            offset += length
            moved(length)
        }
        return try close(location, digest: digest, readMatches: readMatches) ? size : nil
    }

    /// A blob a host wants in one PUT, read through the walk: spooled to a file first.
    private func uploadSpooled(
        at location: URL, digest: String, size: Int64, first: Data, spoolDirectory: String,
        moved: (Int64) -> Void, read: (UnsafeMutableRawBufferPointer) throws -> Int, readMatches: () throws -> Bool
    ) throws -> Int64? {
        try FileSystem.makeDirectories(spoolDirectory)
        return try TemporaryOutput.withDirectory(nextTo: spoolDirectory + "/upload") { directory in
            let path = directory + "/blob"
            do {
                let file = try OutputFile(creating: path, mode: 0o600)
                try first.withUnsafeBytes { try file.write($0) }
                var buffer = [UInt8](repeating: 0, count: StreamBuffer.size)
                try buffer.withUnsafeMutableBytes { raw in
                    while true {
                        let n = try read(raw)
                        if n == 0 { break }
                        try file.write(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
                    }
                }
            }
            guard try putWhole(location, digest: digest, body: .range(path, 0..<size), readMatches: readMatches)
            else { return nil }
            moved(size)
            return size
        }
    }

    // The upload protocol's steps, shared by every way a blob is read.

    /// The whole blob in the PUT that closes the upload, once `readMatches` says its bytes are
    /// the blob; false, with the upload abandoned, if not.
    private func putWhole(
        _ location: URL, digest: String, body: HTTPRequest.Body, readMatches: () throws -> Bool
    ) throws -> Bool {
        guard try readMatches() else { return abandon(location) }
        let response = try send(
            HTTPRequest(
                method: "PUT", url: try finishing(location, digest: digest),
                headers: ["Content-Type": "application/octet-stream"], body: body))
        guard response.status == 201 else { throw failure(response, "blob \(digest)") }
        return true
    }

    /// One chunk of `length` bytes at `offset` of the blob; returns where the next goes. Never
    /// retried: the registry would append it twice.
    private func patch(
        _ location: URL, at offset: Int64, _ length: Int64, body: HTTPRequest.Body, digest: String
    ) throws -> URL {
        let response = try send(
            HTTPRequest(
                method: "PATCH", url: location,
                headers: [
                    "Content-Type": "application/octet-stream", "Content-Range": "\(offset)-\(offset + length - 1)",
                ], body: body), retryable: false)
        guard response.status == 202, let next = response.header("location") else {
            throw failure(response, "a chunk of blob \(digest)")
        }
        return try url(location: next)
    }

    /// The PUT that closes a chunked upload, once `readMatches`; false, abandoned, if not.
    private func close(_ location: URL, digest: String, readMatches: () throws -> Bool) throws -> Bool {
        guard try readMatches() else { return abandon(location) }
        let response = try send(
            HTTPRequest(
                method: "PUT", url: try finishing(location, digest: digest), headers: ["Content-Length": "0"]))
        guard response.status == 201 else { throw failure(response, "blob \(digest)") }
        return true
    }

    /// Ends an upload that will not be closed (best effort); false.
    private func abandon(_ location: URL) -> Bool {
        _ = try? send(HTTPRequest(method: "DELETE", url: location))
        return false
    }

    /// The largest manifest or index read: 4 MiB, what the OCI distribution spec lets a registry
    /// refuse beyond.
    static let maxManifestBytes = 4 << 20

    static let manifestAccept = [
        ModelMediaType.imageManifest, ModelMediaType.imageIndex,
        "application/vnd.docker.distribution.manifest.v2+json",
    ].joined(separator: ", ")

    /// Puts a manifest under `tagOrDigest`; returns its digest.
    @discardableResult
    func putManifest(_ data: Data, mediaType: String, at tagOrDigest: String) throws -> String {
        let digest = "sha256:" + SHA256Stream.hex(of: data)
        let response = try send(
            HTTPRequest(
                method: "PUT", url: url("\(repositoryPath)/manifests/\(tagOrDigest)"),
                headers: ["Content-Type": mediaType], body: .data(data)))
        guard response.status == 201 else { throw failure(response, "manifest \(tagOrDigest)") }
        if let answered = response.header("docker-content-digest"), answered != digest {
            throw ModelPackError.registry(
                reference: reference.text,
                reason: "the registry stored the manifest as \(answered), not \(digest) as sent")
        }
        return digest
    }

    /// Puts a manifest by its digest; returns whether the registry handles referrers itself (it
    /// answered with `OCI-Subject`), so no fallback index is needed.
    func putManifestReportingSubject(_ data: Data, at digest: String) throws -> Bool {
        let response = try send(
            HTTPRequest(
                method: "PUT", url: url("\(repositoryPath)/manifests/\(digest)"),
                headers: ["Content-Type": ModelMediaType.imageManifest], body: .data(data)))
        guard response.status == 201 else { throw failure(response, "manifest \(digest)") }
        return response.header("oci-subject") != nil
    }

    /// The referrers index of `digest`, or nil when the registry has no referrers API (404).
    func referrers(of digest: String) throws -> Data? {
        let response = try send(
            HTTPRequest(
                method: "GET", url: url("\(repositoryPath)/referrers/\(digest)"),
                headers: ["Accept": ModelMediaType.imageIndex]), cap: Self.maxManifestBytes)
        if response.status == 404 || response.status == 405 { return nil }
        guard response.status == 200 else { throw failure(response, "the referrers of \(digest)") }
        return response.body
    }

    /// The manifest at `tagOrDigest`, its digest (computed, and checked against a digest reference
    /// and the registry's header) and media type. Nil when there is none (404).
    func manifest(_ tagOrDigest: String, required: Bool = true) throws -> (
        data: Data, digest: String, mediaType: String
    )? {
        let response = try send(
            HTTPRequest(
                method: "GET", url: url("\(repositoryPath)/manifests/\(tagOrDigest)"),
                headers: ["Accept": Self.manifestAccept]), cap: Self.maxManifestBytes)
        if response.status == 404 && !required { return nil }
        guard response.status == 200 else {
            throw failure(
                response, tagOrDigest.hasPrefix("sha256:") ? "manifest \(tagOrDigest)" : "tag '\(tagOrDigest)'")
        }
        let digest = "sha256:" + SHA256Stream.hex(of: response.body)
        if tagOrDigest.hasPrefix("sha256:"), tagOrDigest != digest {
            throw ModelPackError.registry(
                reference: reference.text, reason: "the manifest served for \(tagOrDigest) has digest \(digest)")
        }
        let mediaType =
            response.header("content-type")?.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces)
            } ?? ModelMediaType.imageManifest
        return (response.body, digest, mediaType)
    }

    /// A small blob (config, bundle manifest) in memory, checked against its digest.
    func smallBlob(_ descriptor: OCIDescriptor, cap: Int) throws -> Data {
        guard descriptor.size >= 0, descriptor.size <= Int64(cap) else {
            throw ModelPackError.limitExceeded(
                path: reference.text, reason: "blob \(descriptor.digest) is \(descriptor.size) bytes, more than \(cap)")
        }
        // One byte past the size the descriptor gives ends the exchange: no more is read.
        let response = try send(
            HTTPRequest(method: "GET", url: url("\(repositoryPath)/blobs/\(descriptor.digest)")),
            cap: Int(descriptor.size) + 1)
        guard response.status == 200 else { throw failure(response, "blob \(descriptor.digest)") }
        let digest = "sha256:" + SHA256Stream.hex(of: response.body)
        guard digest == descriptor.digest, Int64(response.body.count) == descriptor.size else {
            throw ModelPackError.registry(
                reference: reference.text,
                reason: "blob \(descriptor.digest) does not match its digest (the registry served \(digest)); refused")
        }
        return response.body
    }

    /// Blob `digest` from byte `offset` on (the whole blob from 0), its body handed to `receive` with
    /// the status as it arrives: 206 for the rest asked for, 200 when the registry sends the whole
    /// blob instead.
    func downloadBlob(_ digest: String, size: Int64, from offset: Int64, receive: @escaping HTTPReceiver) throws {
        var request = HTTPRequest(method: "GET", url: url("\(repositoryPath)/blobs/\(digest)"))
        request.deadline = HTTPTransport.deadline(moving: size - offset)
        if offset > 0 { request.headers["Range"] = "bytes=\(offset)-" }
        let response = try send(request, receive: receive)
        guard response.status == 200 || response.status == 206 else { throw failure(response, "blob \(digest)") }
    }
}
