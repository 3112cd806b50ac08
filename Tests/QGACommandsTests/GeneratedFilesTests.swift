import Foundation
import QGATestSupport
import Testing

/// completions/ and man/ are generated from the CLIs by scripts/generate-docs and committed;
/// these tests fail when they no longer match what the built `qga` and `qga-exporter` would
/// generate.
@Suite struct GeneratedFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    func committed(_ path: String) throws -> String {
        try String(contentsOfFile: Self.root + "/" + path, encoding: .utf8)
    }

    @Test(arguments: [("bash", "completions/qga.bash"), ("zsh", "completions/_qga"), ("fish", "completions/qga.fish")])
    func completionsAreCurrent(shell: String, path: String) throws {
        let result = try Binaries.qga(["--generate-completion-script", shell])
        #expect(result.status == 0)
        #expect(result.stdoutText == (try committed(path)), "\(path) is stale: run scripts/generate-docs")
    }

    @Test(arguments: [("qga", "man/qga.1"), ("qga-exporter", "man/qga-exporter.1")])
    func manPageIsCurrent(executable: String, path: String) throws {
        // Built by `swift build --product generate-manual`, as the test command does.
        let tool = try Binaries.path("generate-manual")
        let result = try run(tool, [try Binaries.path(executable), "--date", "2026-11-22", "--output-directory", "-"])
        #expect(result.status == 0, "\(result)")
        let trimmed = { (s: String) in s.trimmingCharacters(in: .newlines) }
        #expect(trimmed(result.stdoutText) == trimmed(try committed(path)), "\(path) is stale: run scripts/generate-docs")
    }
}
