import ArgumentParser
import QGACommands
import Testing

/// What `qga` does before it runs a command (issue 11, item 3).
@Suite struct StartupTests {
    /// Every command in the tree names itself. Without a name ArgumentParser derives one from
    /// `String(describing: Self.self)` while building the tree for every invocation, and each
    /// such call scans the process's protocol conformances: about a seventh of `qga exec`'s
    /// instructions on a socket target.
    @Test func everyCommandHasAnExplicitName() {
        var unnamed: [String] = []
        var pending: [any ParsableCommand.Type] = [QGA.self]
        while let command = pending.popLast() {
            if command.configuration.commandName == nil { unnamed.append("\(command)") }
            pending += command.configuration.subcommands
        }
        #expect(unnamed.isEmpty, "commands without commandName: \(unnamed)")
    }
}
