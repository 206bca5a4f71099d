import Foundation

extension Operations {
    /// `login`: checks the credential against the registry, then stores it where docker would.
    /// Returns where it was stored.
    public static func login(
        registry host: String, username: String, secret: String, realmHosts: [String] = [],
        options: RegistryOptions = RegistryOptions()
    ) throws -> String {
        let reference = try ImageReference(parsing: host + "/modelpack-login-check")
        let credential = RegistryCredential(
            username: username, secret: secret, realmHosts: realmHosts.map { $0.lowercased() })
        let client = try RegistryClient(reference, push: false, options: options, credential: credential)
        try client.checkLogin()
        return try DockerConfig(environment: options.environment).store(credential, for: reference.registry)
    }
}
