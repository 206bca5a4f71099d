import Foundation

/// The three files for a weights-only file (safetensors, a PyTorch state dict), which cannot say
/// its forward pass: interface.py loads the tensors (as numpy arrays, or torch tensors) and lists
/// them, and its predict() raises NotImplementedError where the forward pass goes (validate warns,
/// MP306, until it is written); metadata.yaml stands one tensor of any length in for the inputs
/// and outputs, marked for the author to name, type and shape.
enum WeightsInit {
    /// How many tensors interface.py lists by name before counting the rest.
    static let listed = 32

    /// How each format is loaded and run.
    struct Loader: Sendable {
        let label: String
        /// The framework metadata names, and the distribution whose version it takes.
        let framework: String
        let frameworkDistribution: String
        let distributions: [String]
        let imports: String
        let tensorsAre: String
        /// The expression that loads the file (its quoted name) into the Model.
        let load: @Sendable (String, String?) -> String
        let hint: String
    }

    static let safetensors = Loader(
        label: "safetensors, weights only", framework: "numpy", frameworkDistribution: "numpy",
        distributions: ["safetensors", "numpy"],
        imports: "import numpy as np\nfrom safetensors.numpy import load_file",
        tensorsAre: "{name: numpy array}",
        load: { file, _ in "Model(load_file(str(HERE / \(file))))" },
        hint: "e.g. x = np.asarray([row[\"input\"] for row in rows], dtype=np.float32)")

    static let torch = Loader(
        label: "PyTorch state dict, weights only", framework: "pytorch", frameworkDistribution: "torch",
        distributions: ["torch", "numpy"],
        imports: "import torch",
        tensorsAre: "{name: torch.Tensor}",
        load: { file, key in
            "Model(torch.load(HERE / \(file), map_location=\"cpu\", weights_only=True)\(key.map { "[\($0)]" } ?? ""))"
        },
        hint: "e.g. build your nn.Module, load_state_dict(self._tensors), eval(), run it under torch.no_grad()")

    static func loader(_ format: ArtifactFormat) -> Loader { format == .safetensors ? safetensors : torch }

    static func files(
        _ weights: Weights, loader: Loader, artifact: String, name: String, python: String,
        pins: [InitPlan.Pin]
    ) -> (metadata: String, interface: String) {
        let tensors = weights.tensors
        let pin = pins.first { $0.name == loader.frameworkDistribution }
        let metadata = """
            \(InitPlan.header(artifact, loader.label))
            name: \(InitPlan.quoted(InitPlan.slug(name)))
            version: 0.1.0
            \(InitPlan.framework(loader.framework, pin))python: "\(python)"
            # TO WRITE: the inputs predict() takes and the outputs it answers. The file holds weights
            # only, so one tensor of any length stands in for each: name, type and shape them as your
            # forward pass does (Docs/METADATA.md), then add an example row.
            inputs:
            \(InitPlan.yamlField("input", type: "tensor", shape: ["-1"], dtype: "float32"))
            outputs:
            \(InitPlan.yamlField("output", type: "tensor", shape: ["-1"], dtype: "float32"))
            artifacts:
              - \(InitPlan.quoted(artifact))

            """
        let width = min(40, tensors.prefix(listed).map(\.name.count).max() ?? 0)
        var listing = tensors.prefix(listed).map { t in
            "#   \(t.name.padding(toLength: max(width, t.name.count), withPad: " ", startingAt: 0))  \(t.dtype) [\(t.shape.map(String.init).joined(separator: ", "))]"
        }
        if tensors.count > listed { listing.append("#   ... and \(tensors.count - listed) more") }
        let count =
            tensors.count >= PickleValue.keep
            ? "\(tensors.count) or more tensors" : "\(tensors.count) tensor\(tensors.count == 1 ? "" : "s")"
        let interface = """
            \"\"\"The calling contract of \(artifact), written by modelpack init: predict() is yours to write.

            \(artifact) holds weights only (\(count), listed below): the forward pass that turns
            a row into an answer is not in the file. load_model() loads the tensors; write predict(),
            which takes a list of rows, each a dict keyed by the input names of metadata.yaml, and
            returns one JSON-safe item per row (a dict of the outputs, or the bare value when there
            is one). Until then it raises NotImplementedError and modelpack validate warns (MP306).
            \"\"\"
            from pathlib import Path

            \(loader.imports)

            HERE = Path(__file__).resolve().parent
            # The tensors of \(artifact)\(weights.within.map { " (under its key \(InitPlan.quoted($0)))" } ?? ""): name, dtype, shape.
            \(listing.joined(separator: "\n"))


            class Model:
                def __init__(self, tensors):
                    self._tensors = tensors  # \(loader.tensorsAre)

                def predict(self, rows):
                    # TO WRITE: the forward pass, \(loader.hint)
                    raise NotImplementedError(\(InitPlan.quoted("write the forward pass of \(artifact) in interface.py's predict()")))


            def load_model():
                return \(loader.load(InitPlan.quoted(artifact), weights.within.map(InitPlan.quoted)))

            """
        return (metadata, interface)
    }
}
