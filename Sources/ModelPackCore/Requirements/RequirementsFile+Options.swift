extension RequirementsReader {
    /// What modelpack does with each pip option a requirements file may hold.
    enum OptionPolicy {
        case include(constraints: Bool)
        case editable
        /// Kept, with a diagnostic of this severity explaining what it changes.
        case kept(Severity, String)
        case requireHashes
    }

    static let optionsTakingValues: Set<String> = [
        "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url",
        "-f", "--find-links", "--trusted-host", "--only-binary", "--no-binary", "--use-feature", "--progress-bar",
    ]

    static func policy(_ option: String, value: String?) -> OptionPolicy? {
        switch option {
        case "-r", "--requirement": return .include(constraints: false)
        case "-c", "--constraint": return .include(constraints: true)
        case "-e", "--editable": return .editable
        case "-i", "--index-url":
            return .kept(
                .warning,
                "packages come from \(value ?? "?") instead of PyPI: every build of this model must reach that index")
        case "--extra-index-url":
            return .kept(
                .warning,
                "a second index (\(value ?? "?")): pip takes a package from whichever index has the higher version, so a public package with an internal name can be installed instead (dependency confusion)"
            )
        case "-f", "--find-links":
            return .kept(
                .warning,
                "packages may come from \(value ?? "?"): every build must reach it, and its files are not pinned by hash"
            )
        case "--no-index": return .kept(.warning, "PyPI is not used: every package must come from --find-links")
        case "--trusted-host": return .kept(.warning, "TLS certificates are not checked for \(value ?? "?")")
        case "--pre": return .kept(.note, "pre-releases are allowed for every requirement")
        case "--prefer-binary", "--only-binary", "--no-binary":
            return .kept(.note, "\(option) is passed to pip as written")
        case "--require-hashes": return .requireHashes
        default: return nil
        }
    }

    mutating func readOptions(
        _ chars: [Character], offset: Int, file: String,
        at position: (Int) -> (file: String, line: Int, column: Int)
    ) {
        var tokens = Self.tokens(chars, offset: offset)[...]
        while let (token, tokenOffset) = tokens.popFirst() {
            var option = token
            var value: String?
            if let eq = token.firstIndex(of: "="), token.hasPrefix("--") {
                option = String(token[..<eq])
                value = String(token[token.index(after: eq)...])
            } else if token.count > 2, token.hasPrefix("-"), !token.hasPrefix("--"),
                Self.optionsTakingValues.contains(String(token.prefix(2)))
            {
                option = String(token.prefix(2))  // -rother.txt
                value = String(token.dropFirst(2))
            }
            if value == nil, Self.optionsTakingValues.contains(option) {
                value = tokens.popFirst()?.text
                if value == nil {
                    report(.requirementSyntax, "\(option) needs a value", position(tokenOffset))
                    continue
                }
            }
            guard let policy = Self.policy(option, value: value) else {
                report(
                    .pipOption, "unknown or unsupported pip option '\(option)'", position(tokenOffset),
                    hint:
                        "supported: -r, -c, -i/--index-url, --extra-index-url, -f/--find-links, --no-index, --trusted-host, --pre, --prefer-binary, --only-binary, --no-binary, --require-hashes"
                )
                continue
            }
            switch policy {
            case .include(let constraints):
                include(value ?? "", from: file, at: position(tokenOffset), constraints: constraints)
            case .editable:
                report(
                    .editable,
                    "editable install '\(value ?? "")': it installs whatever the folder holds when the image is built, so the model is not reproducible",
                    position(tokenOffset), hint: "build a wheel and pin it, or pin the released version")
            case .kept(let severity, let message):
                report(.pipOption, "\(option): \(message)", position(tokenOffset), severity: severity)
            case .requireHashes:
                result.requireHashes = true
            }
        }
    }

    /// Resolves an include relative to the including file; it must stay inside the model directory.
    mutating func include(
        _ target: String, from file: String, at origin: (file: String, line: Int, column: Int), constraints: Bool
    ) {
        if target.contains("://") {
            report(
                .badInclude, "include '\(target)' is a URL: the model's requirements must be inside the model", origin)
            return
        }
        let base = FileSystem.parentDirectory(of: file)
        var parts: [Substring] = base == "." ? [] : base.split(separator: "/")
        if target.hasPrefix("/") {
            report(.badInclude, "include '\(target)' is an absolute path outside the model directory", origin)
            return
        }
        for component in target.split(separator: "/") {
            switch component {
            case ".": continue
            case "..":
                if parts.isEmpty {
                    report(.badInclude, "include '\(target)' points outside the model directory", origin)
                    return
                }
                parts.removeLast()
            default: parts.append(component)
            }
        }
        read(parts.joined(separator: "/"), includedFrom: origin, constraints: constraints)
    }

    /// Options after a requirement: `--hash=sha256:...` (kept and checked); build options warned about.
    mutating func readRequirementOptions(
        _ chars: [Character], offset: Int,
        at position: (Int) -> (file: String, line: Int, column: Int)
    ) -> [String] {
        var hashes: [String] = []
        var tokens = Self.tokens(chars, offset: offset)[...]
        while let (token, tokenOffset) = tokens.popFirst() {
            var option = token
            var value: String?
            if let eq = token.firstIndex(of: "=") {
                option = String(token[..<eq])
                value = String(token[token.index(after: eq)...])
            }
            switch option {
            case "--hash":
                if value == nil { value = tokens.popFirst()?.text }
                guard let value, Self.isValidHash(value) else {
                    report(
                        .requirementSyntax, "--hash needs sha256:, sha384: or sha512: followed by the hex digest",
                        position(tokenOffset))
                    continue
                }
                hashes.append(value)
            case "--global-option", "--install-option", "--config-settings", "-C":
                if value == nil { _ = tokens.popFirst() }
                report(
                    .pipOption,
                    "\(option) passes build options to a source build, which makes the install depend on the build machine",
                    position(tokenOffset), severity: .warning)
            default:
                report(
                    .pipOption, "unknown or unsupported option '\(option)' after a requirement", position(tokenOffset))
            }
        }
        return hashes
    }

    static func isValidHash(_ text: String) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let length = ["sha256": 64, "sha384": 96, "sha512": 128][String(parts[0])] else {
            return false
        }
        return parts[1].count == length && parts[1].allSatisfy { $0.isHexDigit }
    }
}
