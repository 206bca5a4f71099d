/// The one place the version lives: the CLI's `--version`, the manifest's `tool`, SARIF's driver.
package enum ModelPackVersion {
    package static let current = "0.1.0"
    /// The `tool` every manifest records, and what generated files say made them.
    package static let tool = "modelpack " + current
}
