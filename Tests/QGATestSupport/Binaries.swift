import Foundation

/// The binaries this package builds, found beside the running test bundle
/// (`.build/<config>/`), so that end-to-end tests run exactly what `swift build` made.
public enum Binaries {
    public static var directory: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // .build/debug/qgaPackageTests.xctest → .build/debug
        var dir = bundle.deletingLastPathComponent()
        if dir.lastPathComponent == "MacOS" { dir = dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        return dir.path
    }

    /// The path of the built `name` executable; fails the test if it was not built.
    public static func path(_ name: String) throws -> String {
        let path = directory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingTool("\(path) is not built; run `swift build` before `swift test`")
        }
        return path
    }

    /// Runs the built `qga` with `arguments`.
    public static func qga(
        _ arguments: [String], environment: [String: String] = [:], timeout: Double = 30
    ) throws -> ProcessResult {
        try run(path("qga"), arguments, environment: environment, timeout: timeout)
    }
}

/// A tool the tests need is missing; the message says how to get it.
public struct MissingTool: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
