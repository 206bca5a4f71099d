/// The one place the version lives: the CLI's `--version`, the manifest's `tool`, SARIF's driver.
public enum ModelPackVersion {
    public static let current = "0.1.0"
    /// The `tool` every manifest records, and what generated files say made them.
    public static let tool = "modelpack " + current
}
