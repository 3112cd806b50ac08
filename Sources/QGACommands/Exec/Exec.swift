import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga exec TARGET COMMAND [NAME=VALUE | NAME:=JSON]... [--args JSON]`
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run any agent command and print its result.",
        discussion: """
            Arguments are NAME=VALUE for a string and NAME:=JSON for any JSON value, or a \
            whole object with --args. The command may also be a full request, as virsh takes \
            it: qga exec TARGET '{"execute":"guest-info"}'.

            Examples:
              qga exec /run/vm1/qga.sock guest-info
              qga exec unix:/run/vm1/qga.sock guest-file-open path=/etc/hostname
              qga exec /run/vm1/qga.sock guest-file-read handle:=1000 count:=65536
              qga exec /run/vm1/qga.sock guest-exec path=/bin/ls 'arg:=["-l","/"]' capture-output:=true
            """)

    @OptionGroup var agent: AgentOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: targetHelp, transform: Target.argument)
    var target: Target

    @Argument(help: ArgumentHelp("The command name (guest-info), or a whole JSON request.", valueName: "command"))
    var command: String

    @Argument(help: ArgumentHelp("Command arguments: NAME=VALUE (string) or NAME:=JSON.", valueName: "argument"))
    var arguments: [String] = []

    @Option(help: ArgumentHelp("Command arguments as one JSON object.", valueName: "json"))
    var args: String?

    func validate() throws {
        _ = try request()
    }

    func run() throws {
        let request = try request()
        let reply = try agent.connect(target).execute(request, options: agent.callOptions)
        try output.print(reply)
        if let reply, case .failure(let error, _) = reply.incoming {
            throw ClientError(.agentError(error), error.description)
        }
    }

    /// The request the command line describes; usage errors are `ValidationError`s.
    func request() throws -> Request {
        do {
            return try RequestBuilder.build(command: command, arguments: arguments, argsJSON: args)
        } catch {
            throw ValidationError(error.message)
        }
    }
}
