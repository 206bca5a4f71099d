/// How the model's code loads its artifacts, as far as it says so: the calls in interface.py to
/// a loader that runs whatever code the file it reads holds (pickle and what is built on it), and
/// the artifact names its string literals mention. An artifact the audit did not read (MP515) is
/// an error when such a loader may read it: its bytes would run unvetted.
enum PickleLoaders {
    /// A call of a code-running loader, where interface.py makes it.
    struct Use: Equatable {
        let loader: String
        let line: Int
        let column: Int
    }

    /// The loaders that unpickle what they read (qualified names, after import aliases).
    static let loaders: Set<String> = [
        "pickle.load", "pickle.loads", "pickle.Unpickler", "_pickle.load", "_pickle.loads", "_pickle.Unpickler",
        "cPickle.load", "cPickle.loads", "dill.load", "dill.loads", "cloudpickle.load", "cloudpickle.loads",
        "joblib.load", "joblib.numpy_pickle.load", "sklearn.externals.joblib.load", "torch.load",
        "pandas.read_pickle", "mlflow.sklearn.load_model", "mlflow.pyfunc.load_model", "numpy.load",
        "numpy.lib.format.read_array",
    ]

    /// numpy's loaders unpickle only when told to (`allow_pickle=True`, or any value but False).
    static let pickleWhenAllowed: Set<String> = ["numpy.load", "numpy.lib.format.read_array"]

    /// Every code-running load in `source`, in order.
    static func uses(in source: String) -> [Use] {
        guard let lines = try? PythonTokenizer.logicalLines(source) else { return [] }
        var aliases: [String: String] = [:]  // local name -> qualified name
        var found: [Use] = []
        for line in lines {
            let tokens = line.tokens
            if tokens.first?.text == "import" {
                for (name, alias) in importedNames(tokens.dropFirst()) {
                    // `import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`.
                    if let alias {
                        aliases[alias] = name
                    } else if let top = name.split(separator: ".").first {
                        aliases[String(top)] = String(top)
                    }
                }
                continue
            }
            if tokens.first?.text == "from", let importAt = tokens.firstIndex(where: { $0.text == "import" }) {
                let module = tokens[1..<importAt].map(\.text).joined()
                for (name, alias) in importedNames(tokens[(importAt + 1)...]) {
                    aliases[alias ?? name] = module + "." + name
                }
                continue
            }
            var index = 0
            while index < tokens.count {
                // A dotted name followed by `(`: a call.
                guard tokens[index].kind == .name, index == 0 || tokens[index - 1].text != "." else {
                    index += 1
                    continue
                }
                var parts = [tokens[index].text]
                var end = index + 1
                while end + 1 < tokens.count, tokens[end].text == ".", tokens[end + 1].kind == .name {
                    parts.append(tokens[end + 1].text)
                    end += 2
                }
                if end < tokens.count, tokens[end].text == "(", let local = aliases[parts[0]] {
                    let qualified = ([local] + parts.dropFirst()).joined(separator: ".")
                    if loaders.contains(qualified),
                        !pickleWhenAllowed.contains(qualified) || allowsPickle(tokens[(end + 1)...])
                    {
                        found.append(Use(loader: qualified, line: tokens[index].line, column: tokens[index].column))
                    }
                }
                index = end
            }
        }
        return found
    }

    /// `a.b as c, d` (after `import`, or a `from` line's names, parenthesised or not).
    private static func importedNames(_ tokens: ArraySlice<PythonTokenizer.Token>) -> [(String, String?)] {
        var names: [(String, String?)] = []
        var current: [String] = []
        var alias: String?
        var expectAlias = false
        func flush() {
            if !current.isEmpty { names.append((current.joined(), alias)) }
            current = []
            alias = nil
            expectAlias = false
        }
        for token in tokens where token.text != "(" && token.text != ")" {
            if token.text == "," {
                flush()
            } else if token.text == "as" {
                expectAlias = true
            } else if expectAlias {
                alias = token.text
            } else {
                current.append(token.text)
            }
        }
        flush()
        return names
    }

    /// Whether a numpy load's arguments (the tokens after its `(`) let it unpickle: an
    /// `allow_pickle=` given anything but `False`.
    private static func allowsPickle(_ tokens: ArraySlice<PythonTokenizer.Token>) -> Bool {
        var depth = 0
        var index = tokens.startIndex
        while index < tokens.endIndex {
            let text = tokens[index].text
            if text == "(" || text == "[" || text == "{" { depth += 1 }
            if text == ")" || text == "]" || text == "}" {
                if depth == 0 { return false }
                depth -= 1
            }
            if depth == 0, text == "allow_pickle", index + 2 < tokens.endIndex, tokens[index + 1].text == "=" {
                return tokens[index + 2].text != "False"
            }
            index += 1
        }
        return false
    }

    /// The artifacts `source`'s string literals name, by path or by file name.
    static func named(_ artifacts: [String], in source: String) -> Set<String> {
        guard let lines = try? PythonTokenizer.logicalLines(source) else { return [] }
        let literals = lines.flatMap(\.tokens).compactMap(PythonTokenizer.literalContent)
        return Set(
            artifacts.filter { path in
                let name = FileSystem.lastComponent(of: path)
                return literals.contains { $0 == path || $0 == name || $0.hasSuffix("/" + name) }
            })
    }

    /// The findings of the audits with an unread artifact made errors where interface.py may load
    /// it with a code-running loader: one it names, or any when it names none of the artifacts.
    static func judge(_ audits: [ArtifactAudit], interface: String?) -> [String: String] {
        guard let interface else { return [:] }
        let unread = audits.filter { $0.unread != nil }
        guard !unread.isEmpty, let first = uses(in: interface).first else { return [:] }
        let named = named(audits.map(\.path), in: interface)
        var loaded: [String: String] = [:]
        for audit in unread where named.isEmpty || named.contains(audit.path) {
            loaded[audit.path] =
                "\(ModelDirectory.interfaceFile):\(first.line) loads with \(first.loader), which runs what the file holds"
        }
        return loaded
    }
}
