import Foundation

/// Checks interface.py's contract without running it: a top-level `load_model` (a def, an
/// assignment or an import), and a class with a `predict` method that takes the input. When a
/// `python3` is on PATH the file is also compiled, and a syntax error is reported at its line.
struct InterfaceCheck {
    static let file = ModelDirectory.interfaceFile

    struct Definition {
        let name: String
        let line: Int
        let column: Int
        let indent: Int
        /// Parameter names, with `*`/`**` kept as prefixes; `=` marks a default.
        let parameters: [String]
        let decorators: [String]
    }

    static func check(_ source: String, into collector: inout DiagnosticCollector, python: String?) {
        if let python, let error = PythonCompiler.compileRemembered(source, python: python) {
            collector.add(
                Diagnostic(
                    .pythonSyntax, "\(error.message)", file: file, line: error.line, column: error.column,
                    hint: "interface.py must compile before it can be loaded"))
            return
        }
        let lines: [PythonTokenizer.LogicalLine]
        do {
            lines = try PythonTokenizer.logicalLines(source)
        } catch let problem as PythonTokenizer.Problem {
            collector.add(
                Diagnostic(.pythonSyntax, problem.message, file: file, line: problem.line, column: problem.column))
            return
        } catch {
            return
        }
        checkLoadModel(lines, into: &collector)
        checkPredict(lines, into: &collector)
        checkUnfinished(lines, into: &collector)
    }

    /// `raise NotImplementedError`: what a template (init's, for a weights-only file) leaves for
    /// the author to write. A warning per place, until it is written.
    static func checkUnfinished(_ lines: [PythonTokenizer.LogicalLine], into collector: inout DiagnosticCollector) {
        let defs = definitions(lines)
        for line in lines {
            let tokens = line.tokens
            guard let raise = tokens.firstIndex(where: { $0.text == "raise" }), raise + 1 < tokens.count,
                tokens[raise + 1].text == "NotImplementedError"
            else { continue }
            let inside = defs.last { $0.line < tokens[raise].line && $0.indent < line.indent }?.name
            collector.add(
                Diagnostic(
                    .interfaceUnfinished,
                    "\(inside.map { "\($0)() " } ?? "")raises NotImplementedError: it is still to write",
                    file: file, line: tokens[raise].line, column: tokens[raise].column,
                    hint:
                        "write it (a weights-only file cannot say its forward pass), then list its inputs and outputs in metadata.yaml"
                ))
        }
    }

    static func definitions(_ lines: [PythonTokenizer.LogicalLine]) -> [Definition] {
        var result: [Definition] = []
        var decorators: [String] = []
        for line in lines {
            var tokens = line.tokens[...]
            if tokens.first?.text == "@" {
                decorators.append(tokens.dropFirst().prefix(while: { $0.text != "(" }).map(\.text).joined())
                continue
            }
            if tokens.first?.text == "async" { tokens = tokens.dropFirst() }
            guard tokens.first?.text == "def", tokens.count >= 3 else {
                decorators = []
                continue
            }
            let nameToken = tokens[tokens.startIndex + 1]
            result.append(
                Definition(
                    name: nameToken.text, line: nameToken.line, column: nameToken.column,
                    indent: line.indent, parameters: parameters(Array(tokens.dropFirst(2))),
                    decorators: decorators))
            decorators = []
        }
        return result
    }

    /// Parameter names from `( a, b=1, *args, **kw ) -> X :`.
    static func parameters(_ tokens: [PythonTokenizer.Token]) -> [String] {
        guard tokens.first?.text == "(" else { return [] }
        var params: [String] = []
        var depth = 0
        var current = ""
        var expectName = true
        for token in tokens.dropFirst() {
            if ["(", "[", "{"].contains(token.text) { depth += 1 }
            if [")", "]", "}"].contains(token.text) {
                if depth == 0 { break }
                depth -= 1
            }
            if depth > 0 { continue }
            if token.text == "," {
                if !current.isEmpty { params.append(current) }
                current = ""
                expectName = true
            } else if expectName, token.text == "*" || token.text == "/" {
                current += token.text
            } else if expectName, token.kind == .name {
                current += token.text
                expectName = false
            } else if token.text == "=" {
                current += "="
            }
        }
        if !current.isEmpty { params.append(current) }
        return params
    }

    static func checkLoadModel(_ lines: [PythonTokenizer.LogicalLine], into collector: inout DiagnosticCollector) {
        let defs = definitions(lines)
        if let def = defs.first(where: { $0.name == "load_model" && $0.indent == 0 }) {
            let required = def.parameters.filter { !$0.contains("=") && !$0.hasPrefix("*") && $0 != "/" }
            if !required.isEmpty {
                collector.add(
                    Diagnostic(
                        .loadModelSignature,
                        "load_model requires \(required.joined(separator: ", ")), but the runtime calls load_model() with no arguments",
                        file: file, line: def.line, column: def.column, hint: "give each parameter a default"))
            }
            return
        }
        // `load_model = ...` or `from x import load_model` at top level also provide it.
        for line in lines where line.indent == 0 {
            let texts = line.tokens.map(\.text)
            if texts.first == "load_model" && texts.dropFirst().first == "=" { return }
            if texts.first == "from" || texts.first == "import", texts.contains("load_model") { return }
        }
        if let nested = defs.first(where: { $0.name == "load_model" }) {
            collector.add(
                Diagnostic(
                    .noLoadModel, "load_model is defined here, but not at the top level of interface.py",
                    file: file, line: nested.line, column: nested.column,
                    hint: "the runtime imports interface.py and calls interface.load_model(): move it to the top level")
            )
            return
        }
        let topLevel = defs.filter { $0.indent == 0 }
        if let near = topLevel.first(where: {
            NearMiss.suggestion(for: $0.name, among: ["load_model"]) != nil
                || $0.name.lowercased().replacingOccurrences(of: "_", with: "") == "loadmodel"
        }) {
            collector.add(
                Diagnostic(
                    .noLoadModel, "no top-level load_model(); did you mean to name '\(near.name)' load_model?",
                    file: file, line: near.line, column: near.column))
        } else {
            collector.add(
                Diagnostic(
                    .noLoadModel, "no top-level load_model() in interface.py", file: file, line: 1, column: 1,
                    hint: "add 'def load_model():' returning an object with a predict(inputs) method"))
        }
    }

    static func checkPredict(_ lines: [PythonTokenizer.LogicalLine], into collector: inout DiagnosticCollector) {
        // Methods: defs at the body indentation of a top-level class.
        var bodyIndent: [Int: Int] = [:]  // logical line -> its class's body indentation
        var inClass = false
        var classBody: Int?
        for line in lines {
            if line.indent == 0 {
                inClass = line.tokens.first?.text == "class"
                classBody = nil
            } else if inClass {
                if classBody == nil { classBody = line.indent }
                bodyIndent[line.line] = classBody
            }
        }
        let methods = definitions(lines).filter { def in bodyIndent[def.line].map { $0 == def.indent } ?? false }
        guard let predict = methods.first(where: { $0.name == "predict" }) else {
            if let near = methods.first(where: { NearMiss.suggestion(for: $0.name, among: ["predict"]) != nil }) {
                collector.add(
                    Diagnostic(
                        .noPredict, "no predict method; did you mean to name '\(near.name)' predict?",
                        file: file, line: near.line, column: near.column))
            } else {
                collector.add(
                    Diagnostic(
                        .noPredict, "no class in interface.py has a predict method", file: file, line: 1, column: 1,
                        hint: "load_model() must return an object with predict(inputs)"))
            }
            return
        }
        var params = predict.parameters.filter { $0 != "/" && $0 != "*" }
        if !predict.decorators.contains("staticmethod"), !params.isEmpty { params.removeFirst() }  // self or cls
        if params.isEmpty {
            collector.add(
                Diagnostic(
                    .predictSignature, "predict takes no input argument", file: file, line: predict.line,
                    column: predict.column, hint: "def predict(self, inputs): ..."))
        }
    }
}
