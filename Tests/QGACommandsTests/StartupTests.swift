import ArgumentParser
import Testing

@testable import QGACommands

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

    /// `parseCommandLine` parses a leaf command on its own, and everything else from the
    /// root: either way the result, or the error and its message, is the root's.
    @Test(arguments: [
        ["exec", "/run/vm.sock", "guest-ping"],
        ["exec", "vm1", "vm2", "/run/vm3.sock", "guest-info", "--compact", "-j", "2"],
        ["exec", "-c", "qemu:///system", "--channel", "x", "vm1", "guest-exec", "path=/bin/ls", "arg=-l"],
        ["exec", "--describe", "guest-exec", "--json"],
        ["exec", "vm1", "guest-ping", "--", "--version"],
        ["exec", "help"],
        ["ping", "vm1", "--json", "--timeout", "2", "--max-reply-size", "1M"],
        ["info", "--all", "-c", "test:///default", "--color", "never"],
        ["run", "vm1", "--", "sh", "-c", "echo --help"],
        ["fsfreeze", "status", "unix:vm.sock"],
        ["ssh-keys", "add", "root", "vm1", "-k", "ssh-ed25519 AAAA"],
        // What the root answers: help, the version, completion scripts, errors.
        ["--version"], ["--help"], ["help", "exec"], ["exec", "--help"], ["exec", "-h"],
        ["exec", "--version"], ["ping", "vm1", "--version"],
        ["exec", "--generate-completion-script", "bash"], ["--experimental-dump-help"],
        ["exec"], ["exec", "vm1"], ["exec", "vsock:3", "guest-ping"], ["exec", "vm1", "guest-ping", "--bogus"],
        ["exec", "vm1", "guest-ping", "--compact", "--raw"], ["ping"], ["ping", "vm1", "-j", "0"],
        ["nosuchcommand"], [], ["exec", "---completion", "--", "command", "0", "0"],
    ])
    func aLeafCommandParsesAsFromTheRoot(_ arguments: [String]) {
        let fromRoot = Result { try QGA.parseAsRoot(arguments) }
        let parsed = Result { try QGA.parseCommandLine(arguments) }
        switch (fromRoot, parsed) {
        case (.success(let expected), .success(let command)):
            #expect(String(reflecting: command) == String(reflecting: expected))
        case (.failure(let expected), .failure(let error)):
            #expect(QGA.fullMessage(for: error) == QGA.fullMessage(for: expected))
            #expect(QGA.exitCode(for: error) == QGA.exitCode(for: expected))
        default:
            Issue.record("root: \(fromRoot), parseCommandLine: \(parsed)")
        }
    }
}
