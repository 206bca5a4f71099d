import Foundation

/// The three files for a weights-only file (safetensors), which cannot say its forward pass:
/// interface.py loads the tensors with numpy and lists them, and its predict() raises
/// NotImplementedError where the forward pass goes (validate warns, MP306, until it is written);
/// metadata.yaml stands one tensor of any length in for the inputs and outputs, marked for the
/// author to name, type and shape.
enum WeightsInit {
    /// How many tensors interface.py lists by name before counting the rest.
    static let listed = 32

    static func files(
        _ tensors: [TensorInfo], artifact: String, name: String, python: String, pins: [InitPlan.Pin]
    ) -> (metadata: String, interface: String) {
        let metadata = """
            \(InitPlan.header(artifact, "safetensors, weights only"))
            name: \(InitPlan.quoted(InitPlan.slug(name)))
            version: 0.1.0
            \(InitPlan.framework("numpy", pins.first { $0.name == "numpy" }))python: "\(python)"
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
        let interface = """
            \"\"\"The calling contract of \(artifact), written by modelpack init: predict() is yours to write.

            \(artifact) holds weights only (\(tensors.count) tensor\(tensors.count == 1 ? "" : "s"), listed below): the forward pass that turns
            a row into an answer is not in the file. load_model() loads the tensors as numpy arrays;
            write predict(), which takes a list of rows, each a dict keyed by the input names of
            metadata.yaml, and returns one JSON-safe item per row (a dict of the outputs, or the bare
            value when there is one). Until then it raises NotImplementedError and modelpack validate
            warns (MP306).
            \"\"\"
            from pathlib import Path

            import numpy as np
            from safetensors.numpy import load_file

            HERE = Path(__file__).resolve().parent
            # The tensors of \(artifact), in the order of their data: name, dtype, shape.
            \(listing.joined(separator: "\n"))


            class Model:
                def __init__(self, tensors):
                    self._tensors = tensors  # {name: numpy array}

                def predict(self, rows):
                    # TO WRITE: the forward pass, e.g. x = np.asarray([row["input"] for row in rows], dtype=np.float32)
                    raise NotImplementedError(\(InitPlan.quoted("write the forward pass of \(artifact) in interface.py's predict()")))


            def load_model():
                return Model(load_file(str(HERE / \(InitPlan.quoted(artifact)))))

            """
        return (metadata, interface)
    }
}
