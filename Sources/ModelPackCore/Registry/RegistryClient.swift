import Foundation

/// How modelpack talks to registries (flags of push, pull, inspect and login).
package struct RegistryOptions: Sendable {
    /// Plain HTTP for a registry that is not on loopback (loopback always may).
    package var plainHTTP = false
    /// PEM certificates trusted for the registry's TLS besides the system's store (a private CA);
    /// with one, a loopback registry is spoken to over TLS too.
    package var caFile: String?
    /// Blob transfers at once.
    package var concurrency = 4
    /// Retries of a transient failure (connection lost, 5xx, 429) before giving up.
    package var retries = 4
    /// Waits between retries start here and double.
    package var retryDelay: Double = 0.25
    /// Uploads at or below this size go in one PUT; larger ones in chunks of `chunkSize` (or the
    /// registry's `OCI-Chunk-Min-Length` when larger).
    package var chunkSize = 8 << 20
    /// Every blob in one streamed PUT, whatever its size (for a registry that breaks chunked
    /// uploads; the hosts known to do so get it anyway).
    package var monolithic = false
    /// A repository of the same registry holding the blobs already (cross-repository mount);
    /// without it, the repository a blob was last pushed to or pulled from, when one is remembered.
    package var mountFrom: String?
    /// Seconds a transfer may stay under the progress floor (1 KiB/s) before it is given up.
    package var stallSeconds = 30
    package var environment: [String: String] = ProcessInfo.processInfo.environment

    package init() {}
}

/// One registry repository, spoken to through the OCI distribution API. Authentication follows
/// the registry's challenge: none, Basic, or a Bearer token for the repository's scope from the
/// realm it names (with Basic credentials from Docker's configuration when there are some),
/// fetched again whenever the registry answers 401, so a token that expires during a long upload
/// is renewed. Transient failures are retried with backoff; every error is one line that names
/// the reference.
final class RegistryClient: @unchecked Sendable {
    let reference: ImageReference
    let options: RegistryOptions
    private let transport: HTTPTransport
    private let credential: RegistryCredential?
    private let base: String
    /// The scopes every token asks for (the repository's, plus a mount source's).
    private let scopes: [String]
    private let lock = NSLock()
    /// Held while a token is fetched, so that threads refused at once fetch one token, not one each.
    private let authenticating = NSLock()
    private var authorization: String?
    /// Requests sent, for `--format json` and the benchmarks.
    private(set) var requestCount = 0

    /// `credential` replaces what Docker's configuration holds for the registry (login checks one).
    /// `mountSources`: other repositories push may mount from (their pull scope goes in the token).
    init(
        _ reference: ImageReference, push: Bool, options: RegistryOptions, credential: RegistryCredential? = nil,
        mountSources: [String] = []
    ) throws {
        self.reference = reference
        self.options = options
        transport = HTTPTransport(stallSeconds: options.stallSeconds, caFile: options.caFile)
        // Plain HTTP to loopback unless a CA file says the registry speaks TLS; elsewhere only when asked.
        let plain = options.plainHTTP || (reference.isLoopback && options.caFile == nil)
        base = (plain ? "http://" : "https://") + reference.registry
        self.credential =
            try credential ?? DockerConfig(environment: options.environment).credential(for: reference.registry)
        var scopes = ["repository:\(reference.repository):" + (push ? "pull,push" : "pull")]
        if push {
            for from in Set(mountSources + [options.mountFrom].compactMap { $0 }).sorted()
            where from != reference.repository {
                scopes.append("repository:\(from):pull")
            }
        }
        self.scopes = scopes
    }

    func url(_ path: String) -> URL {
        URL(string: base + path)!
    }

    /// An upload location may be relative to the registry or absolute.
    func url(location: String) throws -> URL {
        if location.hasPrefix("http://") || location.hasPrefix("https://"), let url = URL(string: location) {
            return url
        }
        guard let url = URL(string: base + (location.hasPrefix("/") ? "" : "/") + location) else {
            throw ModelPackError.registry(reference: reference.text, reason: "the registry gave a bad upload location")
        }
        return url
    }

    /// Sends `request` with authentication, following the registry's 401 challenge (at most twice
    /// per request), redirects (credentials only to the registry's own host), and retrying transient
    /// failures unless `retryable` is false (an upload chunk: the registry would append it twice).
    /// With `receive`, a 2xx body goes there instead of memory; a transfer that fails after some of
    /// it went there is not repeated (the receiver would see those bytes twice): the error is thrown.
    func send(
        _ request: HTTPRequest, cap: Int = 1 << 16, retryable: Bool = true, receive: HTTPReceiver? = nil
    ) throws -> HTTPResponse {
        let retries = retryable ? options.retries : 0
        var attempt = 0
        var request = request
        var challenges = 0
        var redirects = 0
        while true {
            var outgoing = request
            outgoing.headers["User-Agent"] = "modelpack/" + ModelPackVersion.current
            switch request.body {
            case .data(let data):
                outgoing.deadline = max(outgoing.deadline, HTTPTransport.deadline(moving: Int64(data.count)))
            case .range(_, let range):
                outgoing.deadline = max(outgoing.deadline, HTTPTransport.deadline(moving: Int64(range.count)))
            case .none: break
            }
            // Credentials (Basic, or a token obtained with them) go to the registry's own origin only.
            let sameHost = Self.origin(of: request.url) == Self.origin(of: url("/"))
            let used = sameHost ? lock.withLock({ authorization }) : nil
            if let used { outgoing.headers["Authorization"] = used }
            let response: HTTPResponse
            var received = false
            do {
                lock.withLock { requestCount += 1 }
                response = try transport.send(
                    outgoing, cap: cap,
                    receive: receive.map { receive in
                        { status, bytes in
                            received = true
                            try receive(status, bytes)
                        }
                    })
            } catch let large as BodyTooLarge {
                throw ModelPackError.registry(
                    reference: reference.text,
                    reason:
                        "the registry's answer (\(large.status)) is longer than the \(ByteCount.human(Int64(large.cap))) allowed for it; refused"
                )
            } catch let failure as TransportFailure {
                let error = ModelPackError.io(path: reference.text, reason: failure.message + retrySuffix(attempt))
                if failure.transient, received { throw InterruptedTransfer(error: error) }
                if failure.transient, attempt < retries {
                    attempt += 1
                    backoff(attempt)
                    continue
                }
                throw error
            }
            // A 401 is answered by following the challenge once; a second time only when what was
            // refused is a Bearer token this request had just fetched: a short-lived token can
            // lapse before a slow machine uses it (docker asks once more too). Basic credentials
            // refused twice are wrong, and the 401 is returned.
            if response.status == 401, sameHost,
                challenges == 0 || (challenges == 1 && used?.hasPrefix("Bearer ") == true)
            {
                challenges += 1
                try authenticating.withLock {
                    // Another thread may have renewed the authorization since this request left.
                    guard lock.withLock({ authorization }) == used else { return }
                    try authenticate(challenge: response.header("www-authenticate"))
                }
                continue
            }
            if [301, 302, 303, 307, 308].contains(response.status), let location = response.header("location"),
                redirects < 5
            {
                redirects += 1
                let next = try url(location: location)
                // Never down to clear text: the model's bytes and what the registry asks for stay
                // encrypted once the registry speaks TLS.
                if request.url.scheme == "https", next.scheme != "https" {
                    throw ModelPackError.registry(
                        reference: reference.text,
                        reason:
                            "the registry redirected to plain HTTP (\(RegistryText.escaped(Self.origin(of: next)))); refused"
                    )
                }
                request.url = next
                if response.status == 303 { request.method = "GET" }
                continue
            }
            if response.status == 429 || (500..<600).contains(response.status), attempt < retries {
                attempt += 1
                backoff(attempt)
                continue
            }
            return response
        }
    }

    private func backoff(_ attempt: Int) {
        Thread.sleep(forTimeInterval: options.retryDelay * pow(2, Double(attempt - 1)))
    }

    private func retrySuffix(_ attempts: Int) -> String {
        attempts > 0 ? " (after \(attempts) retries)" : ""
    }

    /// Answers a `WWW-Authenticate` challenge: Basic with the configured credential, or Bearer by
    /// fetching a token from the realm.
    private func authenticate(challenge: String?) throws {
        guard let challenge, let parsed = AuthChallenge(challenge) else {
            throw notAuthorized("the registry asks for credentials without saying how (no WWW-Authenticate)")
        }
        switch parsed.scheme {
        case "basic":
            guard let credential else { throw notAuthorized("the registry needs credentials") }
            lock.withLock { authorization = credential.basicHeader }
        case "bearer":
            guard let realm = parsed.parameters["realm"], var components = URLComponents(string: realm) else {
                throw notAuthorized("the registry's Bearer challenge names no realm")
            }
            var query = components.queryItems ?? []
            if let service = parsed.parameters["service"] {
                query.append(URLQueryItem(name: "service", value: service))
            }
            for scope in scopes { query.append(URLQueryItem(name: "scope", value: scope)) }
            components.queryItems = query
            guard let tokenURL = components.url, tokenURL.scheme == "https" || tokenURL.scheme == "http",
                tokenURL.host != nil
            else {
                throw notAuthorized("the token realm '\(RegistryText.escaped(realm))' is not an HTTP URL")
            }
            var tokenRequest = HTTPRequest(method: "GET", url: tokenURL)
            let trusted = trustsRealm(tokenURL)
            if let credential, trusted { tokenRequest.headers["Authorization"] = credential.basicHeader }
            let response: HTTPResponse
            do {
                lock.withLock { requestCount += 1 }
                response = try transport.send(tokenRequest, cap: 1 << 20)
            } catch let failure as TransportFailure {
                throw ModelPackError.io(path: reference.text, reason: "token service: " + failure.message)
            } catch is BodyTooLarge {
                throw notAuthorized("the token service's answer is longer than 1 MiB")
            }
            guard response.status == 200 else {
                if credential != nil, !trusted {
                    throw notAuthorized(
                        "the token service at \(RegistryText.escaped(Self.origin(of: tokenURL))) is not the registry's, so the credentials were not sent to it"
                            + (tokenURL.scheme == "https"
                                ? "; if it is the registry's token service, run `modelpack login \(reference.displayRegistry) \(CommandFlag.realmHost) \(RegistryText.escaped(tokenURL.host ?? ""))`"
                                : " (a token service over plain HTTP never gets them)"))
                }
                throw notAuthorized("the token service answered \(response.status)")
            }
            guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                let token = (object["token"] as? String) ?? (object["access_token"] as? String), !token.isEmpty
            else { throw notAuthorized("the token service's answer holds no token") }
            lock.withLock { authorization = "Bearer " + token }
        default:
            throw notAuthorized(
                "the registry asks for '\(parsed.scheme)' authentication, which modelpack does not speak")
        }
    }

    /// `scheme://host:port`, with the scheme's default port: what credentials are bound to.
    static func origin(of url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? "?"
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(url.host?.lowercased() ?? "?"):\(port)"
    }

    /// Token services known to serve a registry on another host (Docker Hub's).
    static let knownRealms: [String: Set<String>] = [
        "registry-1.docker.io": ["auth.docker.io"], "docker.io": ["auth.docker.io"],
        "index.docker.io": ["auth.docker.io"],
    ]

    /// Whether the credential may go to the token realm at `url`: the registry's own origin, or
    /// HTTPS to the registry's host or to a host the user named (`login --realm-host`) or Docker
    /// Hub's own. Never in clear text to anyone but the registry's origin itself.
    func trustsRealm(_ url: URL) -> Bool {
        if Self.origin(of: url) == Self.origin(of: self.url("/")) { return true }
        guard url.scheme == "https", let host = url.host?.lowercased() else { return false }
        let registryHost = URL(string: base)?.host?.lowercased() ?? ""
        return host == registryHost || (credential?.realmHosts ?? []).contains(host)
            || (Self.knownRealms[reference.host] ?? []).contains(host)
    }

    private func notAuthorized(_ why: String) -> ModelPackError {
        let login = "modelpack login \(reference.displayRegistry)"
        return ModelPackError.registry(
            reference: reference.text,
            reason: credential == nil
                ? "not authorized: \(why); no credentials are configured for \(reference.displayRegistry) (run `\(login)`)"
                : "not authorized: \(why); check the credentials for \(reference.displayRegistry) (`\(login)`)")
    }

    /// `GET /v2/`: whether the credential is accepted (login).
    func checkLogin() throws {
        let response = try send(HTTPRequest(method: "GET", url: url("/v2/")))
        guard response.status == 200 else {
            if response.status == 401 { throw notAuthorized("the registry refused the user name or password") }
            throw failure(response, "the API root /v2/")
        }
    }

    /// The one-line error for an unexpected answer to `what` (e.g. "manifest 1.0.0", "blob sha256:…").
    func failure(_ response: HTTPResponse, _ what: String) -> ModelPackError {
        let detail = Self.errorDetail(response.body)
        let suffix = detail.map { " (\($0))" } ?? ""
        switch response.status {
        case 401:
            return notAuthorized("the registry refused the credentials for \(what)" + suffix)
        case 403:
            return ModelPackError.registry(
                reference: reference.text,
                reason: "access to \(what) is denied\(suffix); the account lacks the permission or a quota is reached")
        case 404:
            return ModelPackError.registry(
                reference: reference.text, reason: "\(what) not found on the registry\(suffix)")
        case 413:
            return ModelPackError.registry(
                reference: reference.text, reason: "the registry refuses \(what) as too large\(suffix)")
        case 416:
            return ModelPackError.registry(
                reference: reference.text, reason: "the registry refused the byte range for \(what)\(suffix)")
        case 429, 500..<600:
            return ModelPackError.io(
                path: reference.text,
                reason:
                    "the registry answered \(response.status) for \(what)\(suffix) after \(options.retries) retries; try again later"
            )
        default:
            return ModelPackError.registry(
                reference: reference.text, reason: "the registry answered \(response.status) for \(what)\(suffix)")
        }
    }

    /// `CODE: message` from an OCI error body.
    static func errorDetail(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let errors = object["errors"] as? [[String: Any]], let first = errors.first
        else { return nil }
        let code = first["code"] as? String ?? "ERROR"
        let message = (first["message"] as? String).map { ": " + $0 } ?? ""
        let detail = String((code + message).prefix(200))
        return RegistryText.escaped(detail)
    }
}

/// A transfer lost its connection after part of its body went to the receiver: the caller, which
/// knows how much it has, asks again for the rest.
struct InterruptedTransfer: Error {
    let error: ModelPackError
}

/// `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
struct AuthChallenge {
    let scheme: String
    let parameters: [String: String]

    init?(_ header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else {
            guard !trimmed.isEmpty else { return nil }
            scheme = trimmed.lowercased()
            parameters = [:]
            return
        }
        scheme = trimmed[..<space].lowercased()
        var parameters: [String: String] = [:]
        var rest = Substring(trimmed[trimmed.index(after: space)...])
        while !rest.isEmpty {
            rest = rest.drop(while: { $0 == " " || $0 == "," })
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let c = rest.first, c != "\"" {
                    if c == "\\" { rest = rest.dropFirst() }
                    if let c = rest.first { value.append(c) }
                    rest = rest.dropFirst()
                }
                rest = rest.dropFirst()
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[key] = value
        }
        self.parameters = parameters
    }
}
