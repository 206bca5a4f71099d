import Foundation

/// Where `login` stored a credential.
package struct LoginResult: Sendable {
    package let registry: String
    package let username: String
    /// The credential helper, or config.json.
    package let storedIn: String
}

extension Operations {
    /// `login`: checks the credential against the registry, then stores it where docker would.
    package static func login(
        registry host: String, username: String, secret: String, realmHosts: [String] = [],
        options: RegistryOptions = RegistryOptions()
    ) throws -> LoginResult {
        let reference = try ImageReference(parsing: host + "/modelpack-login-check")
        let credential = RegistryCredential(
            username: username, secret: secret, realmHosts: realmHosts.map { $0.lowercased() })
        let client = try RegistryClient(reference, push: false, options: options, credential: credential)
        try client.checkLogin()
        return LoginResult(
            registry: host, username: username,
            storedIn: try DockerConfig(environment: options.environment).store(credential, for: reference.registry))
    }
}
