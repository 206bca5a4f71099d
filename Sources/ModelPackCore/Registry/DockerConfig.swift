import Foundation

/// A user name and secret for one registry. Never printed: `description` hides the secret.
struct RegistryCredential: CustomStringConvertible, Sendable {
    let username: String
    let secret: String
    /// Token services on other hosts the user trusts with this credential (`login --realm-host`).
    var realmHosts: [String] = []

    var description: String { "credentials for \(username)" }

    var basicHeader: String { "Basic " + Data("\(username):\(secret)".utf8).base64EncodedString() }
}

/// The Docker client's configuration, where registry credentials already live:
/// `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`) with `auths` (base64
/// `user:secret`), `credHelpers` (a `docker-credential-<name>` program per registry) and
/// `credsStore` (one program for all). modelpack reads them as docker does and `login` writes
/// where docker would.
struct DockerConfig {
    let path: String
    private let json: [String: Any]

    static let dockerHubKey = "https://index.docker.io/v1/"

    init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let directory =
            environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.docker"
        path = directory + "/config.json"
        guard FileSystem.exists(path) else {
            json = [:]
            return
        }
        let bytes = try FileSystem.readWholeFile(path, limit: Limits.maxTextBytes)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ModelPackError.unreadable(path: path, reason: "not a JSON object (Docker's client configuration)")
        }
        json = object
    }

    /// The key docker files a registry's credentials under.
    static func key(for registry: String) -> String {
        registry == ImageReference.dockerHub || registry == "docker.io" ? dockerHubKey : registry
    }

    /// `https://host/v1/` and `host` name the same registry.
    private static func normalise(_ key: String) -> String {
        var k = key
        for prefix in ["https://", "http://"] where k.hasPrefix(prefix) { k.removeFirst(prefix.count) }
        if let slash = k.firstIndex(of: "/") { k = String(k[..<slash]) }
        if k == "index.docker.io" || k == "docker.io" || k == "registry-1.docker.io" { return "docker.io" }
        return k
    }

    /// The key modelpack keeps a credential's trusted token hosts under, in the registry's `auths`
    /// entry (docker ignores it; a `docker login` that rewrites the entry drops it, and modelpack
    /// then withholds the credential from those hosts again and says how to trust them).
    static let realmHostsKey = "modelpackRealmHosts"

    /// The credential for `registry` with the token hosts trusted with it, or nil when none is
    /// configured (anonymous access).
    func credential(for registry: String) throws -> RegistryCredential? {
        guard var credential = try storedCredential(for: registry) else { return nil }
        let wanted = Self.normalise(registry)
        if let auths = json["auths"] as? [String: Any],
            let entry = auths.first(where: { Self.normalise($0.key) == wanted })?.value as? [String: Any],
            let hosts = entry[Self.realmHostsKey] as? [String]
        {
            credential.realmHosts = hosts.map { $0.lowercased() }
        }
        return credential
    }

    private func storedCredential(for registry: String) throws -> RegistryCredential? {
        let wanted = Self.normalise(registry)
        if let helpers = json["credHelpers"] as? [String: String],
            let helper = helpers.first(where: { Self.normalise($0.key) == wanted })?.value
        {
            return try Self.helperGet(helper, server: Self.key(for: registry))
        }
        if let auths = json["auths"] as? [String: Any],
            let entry = auths.first(where: { Self.normalise($0.key) == wanted })?.value as? [String: Any]
        {
            if let token = entry["identitytoken"] as? String, !token.isEmpty {
                return RegistryCredential(username: "<token>", secret: token)
            }
            if let auth = entry["auth"] as? String, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw ModelPackError.unreadable(
                        path: path, reason: "the 'auth' entry for \(registry) is not base64 of user:secret")
                }
                return RegistryCredential(
                    username: String(decoded[..<colon]), secret: String(decoded[decoded.index(after: colon)...]))
            }
        }
        if let store = json["credsStore"] as? String, !store.isEmpty {
            return try Self.helperGet(store, server: Self.key(for: registry))
        }
        return nil
    }

    /// Stores `credential` where docker would: the registry's helper, else `credsStore`, else
    /// `auths` in config.json (written atomically, mode 0600, other keys kept). Its trusted token
    /// hosts go in the registry's `auths` entry whichever holds the secret. Returns where.
    func store(_ credential: RegistryCredential, for registry: String) throws -> String {
        let wanted = Self.normalise(registry)
        var place: String?
        if let helpers = json["credHelpers"] as? [String: String],
            let helper = helpers.first(where: { Self.normalise($0.key) == wanted })?.value
        {
            try Self.helperStore(helper, server: Self.key(for: registry), credential: credential)
            place = "docker-credential-\(helper)"
        } else if let store = json["credsStore"] as? String, !store.isEmpty {
            try Self.helperStore(store, server: Self.key(for: registry), credential: credential)
            place = "docker-credential-\(store)"
        }
        if place != nil && credential.realmHosts.isEmpty { return place! }
        var object = json
        var auths = object["auths"] as? [String: Any] ?? [:]
        for key in auths.keys where Self.normalise(key) == wanted { auths[key] = nil }
        var entry: [String: Any] = [:]
        if place == nil {
            entry["auth"] = Data("\(credential.username):\(credential.secret)".utf8).base64EncodedString()
        }
        if !credential.realmHosts.isEmpty { entry[Self.realmHostsKey] = credential.realmHosts }
        auths[Self.key(for: registry)] = entry
        object["auths"] = auths
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try FileSystem.makeDirectories(FileSystem.parentDirectory(of: path))
        try FileSystem.writeAtomically(Array(data) + [0x0a], to: path, mode: 0o600)
        return place ?? path
    }

    private static func helperGet(_ name: String, server: String) throws -> RegistryCredential? {
        let (status, out, err) = try runHelper(name, verb: "get", input: Data(server.utf8))
        if status != 0 {
            if err.lowercased().contains("not found") || out.lowercased().contains("not found") { return nil }
            throw ModelPackError.io(
                path: "docker-credential-\(name)", reason: "'get' failed (exit \(status)); check the credential helper")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
            let username = object["Username"] as? String, let secret = object["Secret"] as? String
        else {
            throw ModelPackError.io(
                path: "docker-credential-\(name)", reason: "'get' did not print Username and Secret")
        }
        return RegistryCredential(username: username, secret: secret)
    }

    private static func helperStore(_ name: String, server: String, credential: RegistryCredential) throws {
        let payload: [String: String] = [
            "ServerURL": server, "Username": credential.username, "Secret": credential.secret,
        ]
        let data = try JSONSerialization.data(withJSONObject: payload)
        let (status, _, _) = try runHelper(name, verb: "store", input: data)
        if status != 0 {
            throw ModelPackError.io(path: "docker-credential-\(name)", reason: "'store' failed (exit \(status))")
        }
    }

    /// Runs `docker-credential-<name> <verb>` from PATH with `input` on stdin. Its output is kept
    /// away from the terminal (it carries the secret).
    private static func runHelper(_ name: String, verb: String, input: Data) throws -> (Int32, String, String) {
        let program = "docker-credential-" + name
        guard let executable = FileSystem.executableOnPath(program) else {
            throw ModelPackError.io(path: program, reason: "not found on PATH (named by Docker's config.json)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [verb]
        process.environment = ProcessZone.childEnvironment()
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)
        )
    }
}
