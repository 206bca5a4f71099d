extension PickleScanner {
    /// BUILD: set an object's state. Records versions estimators keep in their state, flags a BUILD
    /// on an imported global (it rewrites module-level objects), and reads the array data joblib
    /// writes right after a NumpyArrayWrapper's BUILD, as joblib's unpickler does.
    mutating func build(_ target: PickleValue, _ state: PickleValue, at offset: Int64, frameEnd: inout Int64?) throws
        -> PickleValue
    {
        if case .global(let module, let name) = target {
            result.findings.append(
                PickleFinding(
                    kind: .evasion, verdict: .dangerous,
                    message: "BUILD sets attributes on the imported \(module).\(name) itself",
                    offset: offset))
        }
        if let version = state["_sklearn_version"]?.string { record("scikit-learn", version) }
        if target.qualifiedName?.hasPrefix("xgboost.") == true, let tail = state["handle"]?.bytesTail,
            let version = Self.xgboostVersion(tail)
        {
            record("xgboost", version)
        }
        guard case .object(let callee, let args, _) = target else { return target }
        if callee.qualifiedName == "joblib.numpy_pickle.NumpyArrayWrapper" {
            // joblib commits the frame before writing the array: the data is outside any frame.
            frameEnd = nil
            return try readJoblibArray(state, at: offset)
        }
        if Self.reconstructors.contains(callee.qualifiedName ?? ""), let fields = state.items, fields.count >= 5,
            let dtype = fields[2].dtype, let shape = fields[1].items?.compactMap(\.int)
        {
            // ndarray.__reduce__: `_reconstruct(ndarray, (0,), b'b')` then BUILD (version, shape, dtype,
            // is_fortran, data), the data a list for object arrays and bytes otherwise.
            // Only a small array's data is decoded (and only then is protocol 2's latin-1 text turned to bytes).
            let count = PickleValue.count(shape) ?? Int64.max
            let data =
                count <= PickleValue.keep
                ? fields[4].bytesPayload.flatMap { Self.elements($0, dtype: dtype, count: count) } : nil
            return .array(dtype: dtype, shape: shape, items: data ?? (dtype.contains("O") ? fields[4].items : nil))
        }
        return .object(callee: callee, args: args, state: state)
    }

    static let reconstructors: Set<String> = [
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
    ]

    /// Decodes the elements of a small integer, bool or string array (little-endian or native byte
    /// order, as numpy writes them on the machines models are trained on); nil for any other type.
    static func elements(_ bytes: [UInt8], dtype: String, count: Int64) -> [PickleValue]? {
        let code = dtype.drop { "<>|=".contains($0) }
        guard !dtype.hasPrefix(">"), let kind = code.first, "iubU".contains(kind), let width = Int(code.dropFirst()),
            width > 0, width <= (kind == "U" ? 1 << 16 : 8), count >= 0, count <= PickleValue.keep
        else { return nil }
        let size = kind == "U" ? width * 4 : width
        guard bytes.count == size * Int(count) else { return nil }
        var items: [PickleValue] = []
        for i in 0..<Int(count) {
            let item = bytes[(i * size)..<((i + 1) * size)]
            switch kind {
            case "U":
                var scalars = String.UnicodeScalarView()
                for j in stride(from: item.startIndex, to: item.endIndex, by: 4) {
                    let u = (0..<4).reduce(UInt32(0)) { $0 | UInt32(item[j + $1]) << (8 * UInt32($1)) }
                    if u == 0 { break }
                    guard let scalar = Unicode.Scalar(u) else { return nil }
                    scalars.append(scalar)
                }
                items.append(.string(String(scalars)))
            case "b":
                items.append(.bool(item.contains { $0 != 0 }))
            default:
                var v = item.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let bits = UInt64(width * 8)
                if kind == "i", bits < 64, v & (1 << (bits - 1)) != 0 { v |= ~UInt64(0) << bits }
                if kind == "u", bits == 64, v > UInt64(Int64.max) { return nil }
                items.append(.int(Int64(bitPattern: v)))
            }
        }
        return items
    }

    mutating func record(_ library: String, _ version: String) {
        var versions = result.recordedVersions[library, default: []]
        if !versions.contains(version) { versions.append(version) }
        result.recordedVersions[library] = versions
    }

    /// XGBoost's raw model (UBJSON) ends with `"version": [major, minor, patch]`, written as
    /// `L <len 7> version [ # L <count 3>` and three typed integers.
    static func xgboostVersion(_ tail: [UInt8]) -> String? {
        let key: [UInt8] = Array("version[#L".utf8)
        guard
            let start = (0...max(0, tail.count - key.count)).last(where: {
                Array(tail[$0..<min(tail.count, $0 + key.count)]) == key
            })
        else { return nil }
        var i = start + key.count + 8
        guard i <= tail.count, tail[(i - 8)..<i].last == 3 else { return nil }
        var parts: [Int] = []
        while parts.count < 3, i < tail.count {
            let width: Int
            switch tail[i] {
            case UInt8(ascii: "i"), UInt8(ascii: "U"): width = 1
            case UInt8(ascii: "I"): width = 2
            case UInt8(ascii: "l"): width = 4
            default: return nil
            }
            guard i + width < tail.count else { return nil }
            parts.append(tail[(i + 1)...(i + width)].reduce(0) { $0 << 8 | Int($1) })
            i += width + 1
        }
        return parts.count == 3 ? parts.map(String.init).joined(separator: ".") : nil
    }

    /// Reads (or skips) the data joblib writes after a NumpyArrayWrapper and returns the array: the
    /// elements of an object array (a nested pickle, scanned as the loader reads it) or of a small
    /// numeric one, else its type and shape alone.
    private mutating func readJoblibArray(_ state: PickleValue, at offset: Int64) throws -> PickleValue {
        guard let dtype = state["dtype"], let layout = Self.dtypeLayout(dtype), let typestr = dtype.dtype,
            let shape = state["shape"]?.items?.map(\.int)
        else {
            throw Stop(
                message: "a joblib array whose dtype or shape cannot be read: the rest of the file cannot be scanned",
                verdict: .unknown, offset: offset)
        }
        if layout.hasObject {
            // Object arrays are written as a nested pickle (protocol 5): scan it as the loader reads it.
            var nested = PickleScanner(reader: reader, limits: limits)
            nested.result = result
            let root = try nested.scanNested()
            result = nested.result
            return .array(dtype: typestr, shape: shape.compactMap { $0 }, items: root?.items)
        }
        var count: Int64 = 1
        for dim in shape {
            guard let d = dim, d >= 0 else {
                throw Stop(message: "a joblib array with an invalid shape", verdict: .unknown, offset: offset)
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw Stop(message: "a joblib array too large to exist", verdict: .unknown, offset: offset)
            }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: layout.itemSize)
        guard !overflow else {
            throw Stop(message: "a joblib array too large to exist", verdict: .unknown, offset: offset)
        }
        if let alignment = state["numpy_array_alignment_bytes"], case .int = alignment {
            let padding = Int64(try reader.byte())
            try reader.skip(padding)
        }
        result.arrayBytes += bytes
        if bytes <= PickleValue.wholeBytes {
            let data = try reader.bytes(bytes)
            return .array(
                dtype: typestr, shape: shape.compactMap { $0 }, items: Self.elements(data, dtype: typestr, count: count)
            )
        }
        try reader.skip(bytes)
        return .array(dtype: typestr, shape: shape.compactMap { $0 }, items: nil)
    }

    /// One pickle, in line with the enclosing one (joblib's object arrays).
    mutating func scanNested() throws -> PickleValue? {
        let saved = result.pickles
        let root = try scanOneForNesting()
        result.pickles = saved
        return root
    }

    /// The size of one element, and whether elements are Python objects, from a pickled numpy dtype:
    /// `dtype(typestr, align, copy)` plus its BUILD state `(version, byteorder, subarray, names,
    /// fields, elsize, alignment, flags)`.
    static func dtypeLayout(_ value: PickleValue) -> (itemSize: Int64, hasObject: Bool)? {
        guard case .object(let callee, let args, let state) = value, callee.qualifiedName == "numpy.dtype",
            let typestr = args.items?.first?.string
        else { return nil }
        let fields = state?.items ?? []
        let flags = fields.count >= 8 ? fields[7].int ?? 0 : 0
        // Flag 1 is NPY_ITEM_REFCOUNT: the dtype holds objects, whatever its spelling.
        let hasObject = NumpyDescr.typeString(typestr) != false || flags & 1 != 0
        if NumpyDescr.typeString(typestr) == true { return (8, true) }
        if fields.count >= 6, let elsize = fields[5].int, elsize > 0 { return (elsize, hasObject) }
        guard let kind = typestr.first else { return nil }
        let digits = Int64(typestr.dropFirst()) ?? 0
        switch kind {
        case "b", "i", "u", "f", "c", "V", "S", "a", "M", "m": return digits > 0 ? (digits, hasObject) : nil
        case "U":
            let (bytes, overflow) = digits.multipliedReportingOverflow(by: 4)  // UCS-4
            return digits > 0 && !overflow ? (bytes, hasObject) : nil
        case "O": return (8, true)
        case "?": return (1, hasObject)
        default: return nil
        }
    }
}
