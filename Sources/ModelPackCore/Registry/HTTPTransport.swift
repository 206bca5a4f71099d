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
    /// The body when no sink took it, cut at the request's cap.
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
/// handed to a sink as it arrives, so memory does not grow with a blob's size.
final class HTTPTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private final class Pending {
        let sink: ((Data) throws -> Void)?
        let cap: Int
        var response: HTTPURLResponse?
        var body = Data()
        var sinkError: (any Error)?
        var error: (any Error)?
        /// The 401 response URLSession held back to offer its own Basic handling, declined.
        var challenged: HTTPURLResponse?
        let done = DispatchSemaphore(value: 0)

        init(sink: ((Data) throws -> Void)?, cap: Int) {
            self.sink = sink
            self.cap = cap
        }
    }

    private let lock = NSLock()
    private var pending: [Int: Pending] = [:]
    private var session: URLSession!

    init(timeout: TimeInterval = 120) {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    func invalidate() { session.finishTasksAndInvalidate() }

    /// Sends `request` and waits. With a `sink`, a 2xx body goes to it chunk by chunk (an error it
    /// throws cancels the transfer and is rethrown); other bodies are collected up to `cap` bytes.
    func send(_ request: HTTPRequest, cap: Int = 1 << 16, sink: ((Data) throws -> Void)? = nil) throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
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
        let state = Pending(sink: sink, cap: cap)
        lock.withLock { pending[task.taskIdentifier] = state }
        task.resume()
        state.done.wait()
        lock.withLock { pending[task.taskIdentifier] = nil }
        if let sinkError = state.sinkError { throw sinkError }
        let challenged = state.challenged
        if let error = state.error, challenged == nil { throw Self.failure(error, url: request.url) }
        guard let http = challenged ?? state.response else {
            throw TransportFailure(message: "no HTTP response from \(request.url.host ?? "?")", transient: true)
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
        guard let state = state(of: dataTask), state.sinkError == nil else { return }
        let status = state.response?.statusCode ?? 0
        if let sink = state.sink, (200..<300).contains(status) {
            do { try sink(data) } catch {
                state.sinkError = error
                dataTask.cancel()
            }
        } else if state.body.count < state.cap {
            state.body.append(data.prefix(state.cap - state.body.count))
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
        if state.sinkError == nil { state.error = error }
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
