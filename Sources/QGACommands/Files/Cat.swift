import ArgumentParser

/// `qga cat TARGET:/PATH`: a guest file on stdout.
struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Print a file of the guest.",
        discussion: """
            The file's bytes go to stdout unchanged; on a terminal, control characters other \
            than tabs and line breaks are shown escaped. TARGET:/PATH is split at its last \
            ':/', as for 'qga cp'.

            Example:
              qga cat /run/vm1/qga.sock:/etc/os-release
            """)

    @OptionGroup var agent: AgentOptions

    @Argument(help: ArgumentHelp("The guest file: TARGET:/PATH.", valueName: "file"), transform: CopyEndpoint.argument)
    var file: CopyEndpoint

    func validate() throws {
        guard case .guest = file else { throw ValidationError("'qga cat' takes a guest file, TARGET:/PATH") }
    }

    func run() throws {
        guard case .guest(let target, let path) = file else { throw ValidationError("'qga cat' takes a guest file, TARGET:/PATH") }
        try FileTransfer.download(agent, target, path: path, into: HostSink(), progress: false)
    }
}
