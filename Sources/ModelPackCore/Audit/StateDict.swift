/// The tensors of a PyTorch state dict as `torch.save` pickles it: a dict (an OrderedDict) from
/// parameter names to `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`, the
/// storage a persistent id `('storage', torch.FloatStorage, key, location, numel)` that gives the
/// element type. A checkpoint that wraps it (`{"state_dict": ...}`, `{"model": ...}`) is looked
/// into one level down. Containers keep at most `PickleValue.keep` entries, so a larger state dict
/// lists its first ones.
enum StateDict {
    static let storageTypes = [
        "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
        "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
        "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    ]

    static func weights(_ root: PickleValue) -> Weights? {
        if let found = of(root) { return Weights(tensors: found) }
        guard case .dict(let pairs) = root else { return nil }
        let preferred = ["state_dict", "model_state_dict", "model"]
        let candidates = pairs.sorted {
            (preferred.firstIndex(of: $0.0.string ?? "") ?? preferred.count)
                < (preferred.firstIndex(of: $1.0.string ?? "") ?? preferred.count)
        }
        for (key, value) in candidates {
            if let name = key.string, let found = of(value) { return Weights(tensors: found, within: name) }
        }
        return nil
    }

    /// The tensors of a dict whose values are all rebuilt tensors; nil for anything else.
    static func of(_ value: PickleValue) -> [TensorInfo]? {
        guard case .dict(let pairs) = value, !pairs.isEmpty else { return nil }
        var tensors: [TensorInfo] = []
        for (key, item) in pairs {
            guard let name = key.string, case .object(let callee, let args, _) = item,
                callee.qualifiedName?.hasPrefix("torch._utils._rebuild_tensor") == true,
                let parts = args.items, parts.count >= 3, let size = parts[2].items
            else { return nil }
            var dtype = "?"
            if case .persistent(let id) = parts[0], let fields = id.items, fields.count >= 2,
                case .global(_, let storage) = fields[1]
            {
                dtype = storageTypes[storage] ?? storage
            }
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: size.compactMap(\.int)))
        }
        return tensors
    }
}
