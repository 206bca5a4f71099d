import Crypto
import Dispatch
import Foundation
import X509

/// OMS signatures made with a certificate (`model_signing sign certificate`): the Sigstore
/// bundle's `verificationMaterial.x509CertificateChain` holds the signing (leaf) certificate, then
/// the chain the signer gave. The signature is by the leaf's key; the leaf is trusted when it
/// chains, through those intermediates, to a CA certificate the user trusts (`--key CA.pem`, or a
/// `.pem` of certificates in `--trusted-keys`), checked by swift-certificates' RFC 5280 verifier
/// at the current time, and when it may sign (key usage digitalSignature or extended key usage
/// codeSigning, as model_signing asks).
///
/// Stricter than model_signing 1.1, which checks the chain at the leaf's notBefore (so an expired
/// certificate still verifies there): the OMS specification asks for the leaf to be within its
/// validity period, and with no trusted timestamp the only time to check is now.
enum OMSCertificate {
    static let pemBegin = "-----BEGIN CERTIFICATE-----"
    static let pemEnd = "-----END CERTIFICATE-----"
    /// More certificates than this in a bundle's chain (or a trusted file) are refused.
    static let maxCertificates = 16
    static let maxIntermediates = 4

    /// A certificate's subject as a message may show it: control characters replaced, at most
    /// 200 characters (a bundle's certificate is the signer's text, not ours).
    static func shown(_ name: DistinguishedName) -> String {
        String(
            String(describing: name).unicodeScalars.prefix(200).map {
                $0.properties.generalCategory == .control ? "?" : Character($0)
            })
    }

    /// The CA certificates of a PEM file; a certificate that is not a CA's is refused (a chain
    /// must lead to an authority, not to the signer's own certificate).
    static func anchors(pem text: String, path: String) throws -> [(certificate: Certificate, fingerprint: String)] {
        var certificates: [(certificate: Certificate, fingerprint: String)] = []
        var rest = Substring(text)
        while let start = rest.range(of: pemBegin) {
            guard let end = rest.range(of: pemEnd, range: start.upperBound..<rest.endIndex) else {
                throw ModelPackError.usage("\(path): a certificate has no \(pemEnd) line")
            }
            guard certificates.count < maxCertificates else {
                throw ModelPackError.usage("\(path): more than \(maxCertificates) certificates")
            }
            let body = rest[start.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
            guard let der = Data(base64Encoded: String(body)),
                let certificate = try? Certificate(derEncoded: Array(der))
            else {
                throw ModelPackError.usage("\(path): certificate \(certificates.count + 1) is not an X.509 certificate")
            }
            guard case .isCertificateAuthority? = try? certificate.extensions.basicConstraints else {
                throw ModelPackError.usage(
                    "\(path): \(shown(certificate.subject)) is not a CA certificate (trust the CA that issued the signing certificate)"
                )
            }
            certificates.append((certificate, SHA256Stream.hex(of: der)))
            rest = rest[end.upperBound...]
        }
        return certificates
    }

    /// The leaf's key, and a name for the signer, when the chain in `material` leads to one of
    /// the trusted CA certificates and the leaf may sign; else why not.
    static func signingKey(_ material: [String: Any], trusted: [PublicKey]) -> Result<
        (key: PublicKey, signer: String), OMSSignature.Failure
    > {
        let entries: [[String: Any]]
        if let chain = material["x509CertificateChain"] as? [String: Any] {
            entries = chain["certificates"] as? [[String: Any]] ?? []
        } else if let single = material["certificate"] as? [String: Any] {
            entries = [single]
        } else {
            entries = []
        }
        guard !entries.isEmpty, entries.count <= maxCertificates else {
            return .failure(.init("its certificate chain has \(entries.count) certificates (1 to \(maxCertificates))"))
        }
        var chain: [Certificate] = []
        for entry in entries {
            guard let text = entry["rawBytes"] as? String, let der = Data(base64Encoded: text),
                let certificate = try? Certificate(derEncoded: Array(der))
            else { return .failure(.init("certificate \(chain.count + 1) of its chain is not DER X.509")) }
            chain.append(certificate)
        }
        let leaf = chain[0]
        let anchors = trusted.compactMap { key -> (certificate: Certificate, fingerprint: String)? in
            if case .anchor(let certificate, let fingerprint) = key { return (certificate, fingerprint) }
            return nil
        }
        guard !anchors.isEmpty else {
            return .failure(
                .init(
                    "signed with a certificate (\(shown(leaf.subject))): give the CA certificate it chains to as a trusted key (\(CommandFlag.key) CA.pem, or a .pem in \(CommandFlag.trustedKeys))"
                ))
        }
        let usage = try? leaf.extensions.keyUsage
        let extended = try? leaf.extensions.extendedKeyUsage
        // Each usage the certificate states must allow signing code; it must state one.
        guard usage != nil || extended != nil, usage.map(\.digitalSignature) ?? true,
            extended.map({ $0.contains(.codeSigning) }) ?? true
        else {
            return .failure(
                .init(
                    "the signing certificate (\(shown(leaf.subject))) may not sign: its key usage must allow digitalSignature and its extended key usage codeSigning, where it states them"
                ))
        }
        // Intermediates once each (by subject and key) and at most four: the verifier tries
        // every path through them, and copies differing only in another extension would make
        // that search explode.
        var intermediates: [Certificate] = []
        for certificate in chain.dropFirst()
        where !intermediates.contains(where: {
            $0.subject == certificate.subject && $0.publicKey == certificate.publicKey
        }) {
            intermediates.append(certificate)
        }
        guard intermediates.count <= maxIntermediates else {
            return .failure(
                .init("its chain has \(intermediates.count) distinct intermediates (at most \(maxIntermediates))"))
        }
        let result = validate(leaf: leaf, intermediates: intermediates, anchors: anchors.map(\.certificate))
        guard case .validCertificate(let validated) = result else {
            var reason = "does not chain to a trusted CA certificate"
            if case .couldNotValidate(let failures) = result, let first = failures.first {
                reason += " (\(first.policyFailureReason))"
            }
            return .failure(.init("the signing certificate (\(shown(leaf.subject))) \(reason)"))
        }
        let key: PublicKey
        if let p256 = P256.Signing.PublicKey(leaf.publicKey) {
            key = .p256(p256)
        } else if let p384 = P384.Signing.PublicKey(leaf.publicKey) {
            key = .p384(p384)
        } else if let p521 = P521.Signing.PublicKey(leaf.publicKey) {
            key = .p521(p521)
        } else {
            return .failure(.init("the signing certificate's key is not ECDSA P-256, P-384 or P-521"))
        }
        let root = anchors.first { $0.certificate == validated.last }.map { String($0.fingerprint.prefix(16)) } ?? "?"
        return .success((key, "\(shown(leaf.subject)) (CA \(root))"))
    }

    /// swift-certificates' verifier, run to completion on a thread of its own: it is async, and
    /// its callers here are not (nor may they hold a thread of Swift's shared pool waiting).
    private static func validate(leaf: Certificate, intermediates: [Certificate], anchors: [Certificate])
        -> CertificateValidationResult
    {
        final class Outcome: @unchecked Sendable {
            var result: CertificateValidationResult?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: OwnThreadExecutor.shared) {
            var verifier = X509.Verifier(rootCertificates: CertificateStore(anchors)) { RFC5280Policy() }
            outcome.result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates))
            done.signal()
        }
        done.wait()
        return outcome.result!
    }
}

/// A task executor on a serial queue of its own, so that waiting for a task from synchronous code
/// never waits on the threads that would run it.
private final class OwnThreadExecutor: TaskExecutor {
    static let shared = OwnThreadExecutor()
    private let queue = DispatchQueue(label: "modelpack.x509")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
