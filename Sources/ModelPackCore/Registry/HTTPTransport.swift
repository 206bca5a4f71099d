internal import CCurl
import Foundation

/// One HTTP request to a registry. The body is in memory (manifests, one upload chunk: bounded) or
/// a byte range of a file, streamed.
struct HTTPRequest {
    enum Body {
        case none
        case data(Data)
        /// Bytes `range` of the file at the path, read as they are sent.
        case range(String, Range<Int64>)
    }

    var method: String
    var url: URL
    var headers: [String: String] = [:]
    var body: Body = .none
    /// Seconds the whole exchange may take (a blob's grows with its size: `HTTPTransport.deadline`).
    var deadline: Int = HTTPTransport.smallDeadline
}

struct HTTPResponse {
    let status: Int
    /// Header names lower-cased.
    let headers: [String: String]
    /// The body (unless a 2xx body went to the request's receiver), cut at the request's cap.
    let body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// An answer longer than the request allows (a manifest past 4 MiB, an error body past 1 MiB).
struct BodyTooLarge: Error {
    let status: Int
    let cap: Int
}

/// A failure below HTTP: the connection was refused or lost, TLS failed, a timeout.
struct TransportFailure: Error {
    let message: String
    /// Whether trying again may help (a lost connection, a timeout; not a TLS failure).
    let transient: Bool
}

/// Where a 2xx body goes instead of memory: called with the status and each piece as it arrives
/// (libcurl waits for it to return, so a slow consumer slows the transfer, never fills memory).
/// A throw ends the transfer; `send` rethrows it.
typealias HTTPReceiver = (_ status: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void

/// Blocking HTTP over libcurl, the library FoundationNetworking's URLSession is built on here,
/// used directly: the system's trust store plus a CA file of the user's (`caFile`, which the
/// toolchain's URLSession cannot take on Linux), HTTP/1.1 and HTTP/2, bodies streamed both ways at
/// curl's own speed (URLSession moved a blob at about a third of it, Benchmarks/README.md), and no HTTP written
/// by hand. Redirects are not followed here: the client follows them itself so that credentials
/// are never sent to another host. Each thread's request takes an idle easy handle from a pool, so
/// connections are kept alive across requests.
final class HTTPTransport: @unchecked Sendable {
    private let timeout: Int
    private let caFile: String?
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []

    /// libcurl, loaded (dlopen) and set up once per process, when the first request needs it: the
    /// commands that never reach a registry do not pay for loading it and its libraries.
    /// The table is written once, before anyone can read it, and never again.
    nonisolated(unsafe) private static let library: Result<UnsafePointer<mp_curl_functions>, TransportFailure> = {
        var error = [CChar](repeating: 0, count: 512)
        guard let table = mp_curl_load(&error, error.count) else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(
                TransportFailure(
                    message: "libcurl could not be loaded (\(reason)); install it (Debian: apt-get install libcurl4)",
                    transient: false))
        }
        return .success(table)
    }()

    /// The progress floor: a transfer slower than `floorBytes` a second for `stallSeconds` is given
    /// up (a registry that sends a byte a second is not waited on).
    static let floorBytes = 1024
    /// The deadline of an exchange of small bodies (manifests, configs, tokens, errors).
    static let smallDeadline = 120

    /// The deadline of moving `size` bytes: two minutes, plus the time at 256 KiB/s.
    static func deadline(moving size: Int64) -> Int {
        smallDeadline + Int(min(max(size, 0) / (256 << 10), Int64(Int32.max)))
    }

    /// `stallSeconds`: how long a transfer may stay under the progress floor.
    init(stallSeconds: Int = 30, caFile: String? = nil) {
        self.timeout = stallSeconds
        self.caFile = caFile
    }

    deinit {
        if case .success(let curl) = Self.library {
            for handle in idle { mp_curl_easy_cleanup(curl, handle) }
        }
    }

    /// Sends `request` and waits. A 2xx body goes to `receive` when one is given; any other body
    /// is collected, and one longer than `cap` bytes ends the exchange (`BodyTooLarge`).
    func send(_ request: HTTPRequest, cap: Int = 1 << 20, receive: HTTPReceiver? = nil) throws -> HTTPResponse {
        let curl = try Self.library.get()
        guard let handle = lock.withLock({ idle.popLast() }) ?? mp_curl_easy_init(curl) else {
            throw TransportFailure(message: "libcurl could not be set up", transient: false)
        }
        defer {
            mp_curl_easy_reset(curl, handle)  // keeps the handle's live connections for the next request
            lock.withLock { idle.append(handle) }
        }
        let exchange = try Exchange(request, cap: cap, receive: receive)
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { mp_curl_slist_free_all(curl, headers) }
        // Content-Length and Transfer-Encoding are libcurl's to write; an empty Expect stops it
        // waiting for a 100 Continue before a large body.
        for (name, value) in request.headers where name.lowercased() != "content-length" {
            headers = mp_curl_slist_append(curl, headers, "\(name): \(value)")
        }
        headers = mp_curl_slist_append(curl, headers, "Expect:")
        var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = request.url.absoluteString.withCString { url in
            errorText.withUnsafeMutableBufferPointer { errorBuffer in
                let context = Unmanaged.passUnretained(exchange).toOpaque()
                var set = CURLE_OK
                func check(_ result: CURLcode) { if set == CURLE_OK { set = result } }
                check(mp_curl_set_pointer(curl, handle, CURLOPT_URL, url))
                check(mp_curl_set_pointer(curl, handle, CURLOPT_ERRORBUFFER, errorBuffer.baseAddress))
                check(mp_curl_set_pointer(curl, handle, CURLOPT_PROTOCOLS_STR, "http,https"))
                check(mp_curl_set_long(curl, handle, CURLOPT_NOSIGNAL, 1))
                check(mp_curl_set_long(curl, handle, CURLOPT_CONNECTTIMEOUT, 30))
                check(mp_curl_set_long(curl, handle, CURLOPT_LOW_SPEED_LIMIT, Self.floorBytes))
                check(mp_curl_set_long(curl, handle, CURLOPT_LOW_SPEED_TIME, timeout))
                check(mp_curl_set_long(curl, handle, CURLOPT_TIMEOUT, request.deadline))
                check(mp_curl_set_long(curl, handle, CURLOPT_BUFFERSIZE, 512 << 10))
                check(mp_curl_set_long(curl, handle, CURLOPT_UPLOAD_BUFFERSIZE, 2 << 20))
                if let caFile { check(mp_curl_set_pointer(curl, handle, CURLOPT_CAINFO, caFile)) }
                check(mp_curl_set_pointer(curl, handle, CURLOPT_HTTPHEADER, headers))
                check(mp_curl_set_callback(curl, handle, CURLOPT_HEADERFUNCTION, headerCallback))
                check(mp_curl_set_pointer(curl, handle, CURLOPT_HEADERDATA, context))
                check(mp_curl_set_callback(curl, handle, CURLOPT_WRITEFUNCTION, writeCallback))
                check(mp_curl_set_pointer(curl, handle, CURLOPT_WRITEDATA, context))
                switch request.method {
                case "GET": check(mp_curl_set_long(curl, handle, CURLOPT_HTTPGET, 1))
                case "HEAD": check(mp_curl_set_long(curl, handle, CURLOPT_NOBODY, 1))
                default: check(mp_curl_set_pointer(curl, handle, CURLOPT_CUSTOMREQUEST, request.method))
                }
                if let size = exchange.uploadSize {
                    check(mp_curl_set_long(curl, handle, CURLOPT_UPLOAD, 1))
                    check(mp_curl_set_offset(curl, handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(size)))
                    check(mp_curl_set_callback(curl, handle, CURLOPT_READFUNCTION, readCallback))
                    check(mp_curl_set_pointer(curl, handle, CURLOPT_READDATA, context))
                }
                guard set == CURLE_OK else { return set }
                return mp_curl_easy_perform(curl, handle)
            }
        }
        if let error = exchange.error { throw error }
        guard code == CURLE_OK else {
            var detail = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if detail.isEmpty, let text = mp_curl_easy_strerror(curl, code) {
                detail = String(validatingCString: text) ?? ""
            }
            throw Self.failure(code, detail: detail, url: request.url, stall: timeout, deadline: request.deadline)
        }
        return HTTPResponse(status: exchange.status, headers: exchange.headers, body: exchange.body)
    }

    private static func failure(_ code: CURLcode, detail: String, url: URL, stall: Int, deadline: Int)
        -> TransportFailure
    {
        let host = url.host.map { h in url.port.map { "\(h):\($0)" } ?? h } ?? "?"
        switch code {
        case CURLE_COULDNT_CONNECT:
            return TransportFailure(message: "cannot connect to \(host): connection refused", transient: true)
        case CURLE_COULDNT_RESOLVE_HOST:
            return TransportFailure(message: "cannot resolve host \(host)", transient: false)
        case CURLE_OPERATION_TIMEDOUT:
            // libcurl's own words tell the progress floor ("Operation too slow") from the deadline.
            if detail.contains("too slow") {
                return TransportFailure(
                    message:
                        "\(host) sent less than \(floorBytes / 1024) KiB/s for \(stall) s: given up (\(CommandFlag.stallTimeout))",
                    transient: false)
            }
            if detail.lowercased().contains("connection timed out") {
                return TransportFailure(message: "\(host) did not answer in time", transient: true)
            }
            return TransportFailure(
                message: "the exchange with \(host) took more than its deadline of \(deadline) s: given up",
                transient: false)
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2,
            CURLE_HTTP2_STREAM:
            return TransportFailure(message: "the connection to \(host) was lost", transient: true)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return TransportFailure(
                message: "TLS with \(host) failed (\(detail)); give its CA with \(CommandFlag.caFile)", transient: false
            )
        case CURLE_SSL_CACERT_BADFILE:
            return TransportFailure(
                message: "the CA file cannot be read as PEM certificates (\(detail))", transient: false)
        default:
            return TransportFailure(message: "\(host): \(detail)", transient: true)
        }
    }
}

/// One request's state, which libcurl's callbacks reach through their context pointer.
private final class Exchange {
    let cap: Int
    let receive: HTTPReceiver?
    var status = 0
    var headers: [String: String] = [:]
    var body = Data()
    /// What a callback threw; libcurl is told to stop and `send` rethrows it.
    var error: (any Error)?
    let uploadSize: Int64?
    private var uploadData: Data?
    private var uploadOffset = 0
    private var uploadFile: InputFile?
    /// A `range` body: where the next byte is read, and where the range ends.
    private var uploadPosition: Int64 = 0
    private var uploadEnd: Int64?

    init(_ request: HTTPRequest, cap: Int, receive: HTTPReceiver?) throws {
        self.cap = cap
        self.receive = receive
        switch request.body {
        case .none:
            uploadSize = nil
        case .data(let data):
            uploadData = data
            uploadSize = Int64(data.count)
        case .range(let path, let range):
            uploadFile = try InputFile(path: path)
            uploadPosition = range.lowerBound
            uploadEnd = range.upperBound
            uploadSize = Int64(range.count)
        }
    }

    /// One header line, or a status line, which starts a new response (after a 100 Continue).
    func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            // "HTTP/1.1 200 OK" or, with no reason phrase, "HTTP/2 200".
            let parts = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = [:]
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// A body past its cap ends the transfer: nothing from outside is read without bound.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let receive, (200..<300).contains(status) {
            do { try receive(status, bytes) } catch {
                self.error = error
                return false
            }
        } else {
            guard body.count + bytes.count <= cap else {
                self.error = BodyTooLarge(status: status, cap: cap)
                return false
            }
            body.append(contentsOf: bytes)
        }
        return true
    }

    /// Fills `buffer` with the next bytes of the body; 0 at its end, nil on a read error.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        if let data = uploadData {
            let n = min(buffer.count, data.count - uploadOffset)
            data.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[uploadOffset..<uploadOffset + n]))
            }
            uploadOffset += n
            return n
        }
        do {
            guard let file = uploadFile, let end = uploadEnd else { return 0 }
            let wanted = Int(min(Int64(buffer.count), end - uploadPosition))
            guard wanted > 0 else { return 0 }
            let n = try file.read(at: uploadPosition, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]))
            guard n > 0 else {
                throw ModelPackError.unreadable(path: file.path, reason: "ends before the bytes being sent")
            }
            uploadPosition += Int64(n)
            return n
        } catch {
            self.error = error
            return nil
        }
    }
}

private func exchange(_ context: UnsafeMutableRawPointer?) -> Exchange {
    Unmanaged<Exchange>.fromOpaque(context!).takeUnretainedValue()
}

private let headerCallback: mp_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer else { return length }
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
    exchange(context).header(line)
    return length
}

private let writeCallback: mp_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer else { return length }
    return exchange(context).write(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
}

private let readCallback: mp_curl_data_callback = { buffer, size, count, context in
    guard let buffer else { return 0 }
    let n = exchange(context).read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
    return n.map { $0 } ?? Int(CURL_READFUNC_ABORT)
}
