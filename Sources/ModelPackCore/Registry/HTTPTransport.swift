import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP request to a registry. The body is in memory (manifests, one upload chunk: bounded) or
/// a file streamed by URLSession.
struct HTTPRequest {
    enum Body {
        case none
        case data(Data)
        case file(String)
    }

    var method: String
    var url: URL
    var headers: [String: String] = [:]
    var body: Body = .none
}

struct HTTPResponse {
    let status: Int
    /// Header names lower-cased.
    let headers: [String: String]
    /// The body (of a request that was not a download), cut at the request's cap.
    let body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A failure below HTTP: the connection was refused or lost, TLS failed, a timeout.
struct TransportFailure: Error {
    let message: String
    /// Whether trying again may help (a lost connection, a timeout; not a TLS failure).
    let transient: Bool
}

/// Blocking HTTP over FoundationNetworking's URLSession (libcurl on Linux: the system's trust
/// store, HTTP/1.1 and HTTP/2, streamed bodies), so the toolchain's own client carries every byte
/// and no HTTP is written by hand. Redirects are not followed here: the client follows them itself
/// so that credentials are never sent to another host. A body is either collected (up to a cap) or
/// written to a file by a download task, so memory does not grow with a blob's size.
final class HTTPTransport: NSObject, URLSessionDataDelegate, URLSessionDownloadDelegate, @unchecked Sendable {
    private final class Pending {
        let cap: Int
        var response: HTTPURLResponse?
        var body = Data()
        var error: (any Error)?
        /// The 401 response URLSession held back to offer its own Basic handling, declined.
        var challenged: HTTPURLResponse?
        /// Where a download task's file goes (a 2xx body), and what moving it there threw.
        var destination: String?
        var moveError: (any Error)?
        /// Told the bytes of a download as they are written.
        var onBytes: (@Sendable (Int64) -> Void)?
        let done = DispatchSemaphore(value: 0)

        init(cap: Int) { self.cap = cap }
    }

    private let lock = NSLock()
    private var pending: [Int: Pending] = [:]
    private var session: URLSession!
    private let delegateQueue = OperationQueue()

    init(timeout: TimeInterval = 120) {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        delegateQueue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: delegateQueue)
    }

    func invalidate() { session.finishTasksAndInvalidate() }

    /// Sends `request` and waits; the body is collected up to `cap` bytes.
    func send(_ request: HTTPRequest, cap: Int = 1 << 16) throws -> HTTPResponse {
        var urlRequest = Self.urlRequest(request)
        let task: URLSessionTask
        switch request.body {
        case .none:
            task = session.dataTask(with: urlRequest)
        case .data(let data):
            urlRequest.setValue(String(data.count), forHTTPHeaderField: "Content-Length")
            task = session.uploadTask(with: urlRequest, from: data)
        case .file(let path):
            task = session.uploadTask(with: urlRequest, fromFile: URL(fileURLWithPath: path))
        }
        let state = Pending(cap: cap)
        wait(for: task, state)
        return try finish(state, task: task, url: request.url)
    }

    private static func urlRequest(_ request: HTTPRequest) -> URLRequest {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        return urlRequest
    }

    /// Runs `task` to its end, its delegate calls going to `state`.
    private func wait(for task: URLSessionTask, _ state: Pending) {
        lock.withLock { pending[task.taskIdentifier] = state }
        task.resume()
        state.done.wait()
        lock.withLock { pending[task.taskIdentifier] = nil }
    }

    private func finish(_ state: Pending, task: URLSessionTask, url: URL) throws -> HTTPResponse {
        let challenged = state.challenged
        if let error = state.error, challenged == nil { throw Self.failure(error, url: url) }
        guard let http = challenged ?? state.response else {
            throw TransportFailure(message: "no HTTP response from \(url.host ?? "?")", transient: true)
        }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: state.body)
    }

    private func state(of task: URLSessionTask) -> Pending? {
        lock.withLock { pending[task.taskIdentifier] }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        state(of: dataTask)?.response = response as? HTTPURLResponse
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let state = state(of: dataTask), state.body.count < state.cap else { return }
        state.body.append(data.prefix(state.cap - state.body.count))
    }

    /// Sends `request` and writes a 2xx body to the file `destination` (created or replaced).
    /// URLSession writes a download task's body to a file as it arrives, so memory stays flat
    /// whatever the size; a data task's chunks would queue for the delegate without bound when the
    /// consumer is slower than the network.
    func download(
        _ request: HTTPRequest, to destination: String, onBytes: (@Sendable (Int64) -> Void)? = nil
    ) throws -> HTTPResponse {
        let task = session.downloadTask(with: Self.urlRequest(request))
        let state = Pending(cap: 1 << 16)
        state.destination = destination
        state.onBytes = onBytes
        wait(for: task, state)
        if let moveError = state.moveError { throw moveError }
        return try finish(state, task: task, url: request.url)
    }

    func urlSession(
        _ session: URLSession, downloadTask: URLSessionDownloadTask, didWriteData bytesWritten: Int64,
        totalBytesWritten: Int64, totalBytesExpectedToWrite: Int64
    ) {
        state(of: downloadTask)?.onBytes?(bytesWritten)
    }

    func urlSession(
        _ session: URLSession, downloadTask: URLSessionDownloadTask, didFinishDownloadingTo location: URL
    ) {
        guard let state = state(of: downloadTask), let destination = state.destination else { return }
        let http = downloadTask.response as? HTTPURLResponse
        if state.response == nil { state.response = http }
        if let status = http?.statusCode, (200..<300).contains(status) {
            do {
                if FileManager.default.fileExists(atPath: destination) {
                    try FileManager.default.removeItem(atPath: destination)
                }
                try FileManager.default.moveItem(atPath: location.path, toPath: destination)
            } catch {
                state.moveError = ModelPackError.io(path: destination, reason: "cannot keep the download: \(error)")
            }
        } else if let body = FileManager.default.contents(atPath: location.path) {
            state.body = body.prefix(state.cap)
        }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)  // the client follows redirects itself (credentials stay with their host)
    }

    /// A 401 is the client's to answer (RegistryClient follows the registry's challenge itself).
    /// URLSession holds back a Basic 401 to offer its own handling; that is declined (which ends the
    /// task) and the held response is what `send` returns.
    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        if let response = challenge.failureResponse as? HTTPURLResponse, response.statusCode == 401 {
            state(of: task)?.challenged = response
        }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let state = state(of: task) else { return }
        if state.response == nil, let http = task.response as? HTTPURLResponse { state.response = http }
        state.error = error
        state.done.signal()
    }

    private static func failure(_ error: any Error, url: URL) -> TransportFailure {
        let host = url.host.map { h in url.port.map { "\(h):\($0)" } ?? h } ?? "?"
        guard let urlError = error as? URLError else {
            return TransportFailure(message: "\(host): \(error.localizedDescription)", transient: true)
        }
        switch urlError.code {
        case .cannotConnectToHost:
            return TransportFailure(message: "cannot connect to \(host): connection refused", transient: true)
        case .cannotFindHost, .dnsLookupFailed:
            return TransportFailure(message: "cannot resolve host \(host)", transient: false)
        case .timedOut:
            return TransportFailure(message: "\(host) did not answer in time", transient: true)
        case .networkConnectionLost, .notConnectedToInternet:
            return TransportFailure(message: "the connection to \(host) was lost", transient: true)
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return TransportFailure(
                message: "TLS with \(host) failed (\(urlError.localizedDescription)); give its CA with --ca-file",
                transient: false)
        default:
            return TransportFailure(message: "\(host): \(urlError.localizedDescription)", transient: true)
        }
    }
}
