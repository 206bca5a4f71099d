import ArgumentParser
import ModelPackCore

struct Init: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write requirements.txt, metadata.yaml and interface.py for the model artifact in a directory.",
        discussion: """
            Reads the artifact without loading it (an ONNX model's graph inputs and outputs, \
            a pickled or joblib scikit-learn, XGBoost or LightGBM estimator's columns, encoder \
            categories and classes, or the tensors of a safetensors file or a PyTorch state \
            dict, whose forward pass you write in predict()) and writes the three files next to \
            it: requirements pinned \
            to the versions the artifact records, else to those installed in --python, metadata \
            with the inputs, outputs and a row of zeros as the example, and an interface.py whose \
            predict() takes rows as the server passes them. What it cannot know (description, \
            licence, real example rows) is marked for you. It never replaces a file without \
            --force.
            """)

    @Argument(help: "The directory holding the artifact.")
    var directory: String = "."

    @Option(help: "The Python whose installed distributions pin requirements.txt.")
    var python: String = "python3"

    @Flag(help: "Replace requirements.txt, metadata.yaml and interface.py when they exist.")
    var force = false

    @OptionGroup var report: DataOutputOptions

    func run() throws {
        try report.emit(
            try Operations.initialize(
                InitOptions(directory: directory, python: python, force: force), context: context))
    }
}
