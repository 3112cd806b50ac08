import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga exec TARGET COMMAND [NAME=VALUE | NAME:=JSON]... [--args JSON]`, and
/// `qga exec --describe COMMAND`.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run any agent command and print its result.",
        usage: """
            qga exec [<options>] <target> ... <command> [<argument> ...]
            qga exec [<options>] (-t <target> ... | --all) <command> [<argument> ...]
            qga exec --describe <command> [--json]
            """,
        discussion: """
            Arguments are NAME=VALUE or NAME:=JSON, or a whole object with --args. For a \
            command the catalogue knows (see 'qga commands'), NAME=VALUE is converted to the \
            argument's type (handle=1000 is a number, capture-output=true a boolean; an array \
            argument such as guest-exec's arg takes one element per NAME=VALUE), JSON is \
            checked against it, and an unknown, missing or mistyped argument is a usage error \
            (exit 64) before anything is sent. A command the catalogue does not know is sent \
            as typed, with a warning; --no-check sends any command as typed (NAME=VALUE as a \
            string). The command may also be a full request, as virsh takes it: qga exec \
            TARGET '{"execute":"guest-info"}' (checked too).

            Several targets: the words before the command are targets when the command \
            starts with guest- or is a JSON request (qga exec web1 web2 /run/vm3/qga.sock \
            guest-info); otherwise, or for a domain whose name starts with guest-, give each \
            target with -t (repeatable) or use --all, and the first word is the command. \
            Each target then prints one JSON line, in the order the targets were given: \
            {"target":T,"return":VALUE} ("return":null for a command that replies only on \
            error), or {"target":T,"error":{"class":C,"desc":D,"exit":N}}.

            --describe prints what a command takes and returns, since when it exists, where \
            it runs and whether it replies; no target is needed.

            Examples:
              qga exec /run/vm1/qga.sock guest-info
              qga exec unix:/run/vm1/qga.sock guest-file-open path=/etc/hostname
              qga exec /run/vm1/qga.sock guest-file-read handle=1000 count=65536
              qga exec /run/vm1/qga.sock guest-exec path=/bin/ls arg=-l arg=/ capture-output=true
              qga exec web1 web2 web3 guest-get-host-name
              qga exec --all -j 4 guest-get-osinfo
              qga exec --describe guest-exec
            """)

    @OptionGroup var agent: AgentOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var fanOut: FanOutOptions

    @Argument(help: targetsHelp, completion: DomainCompletion.names, transform: Target.argument)
    var target: Target?

    @Argument(
        help: ArgumentHelp("The command name (guest-info), or a whole JSON request.", valueName: "command"),
        completion: Completion.commandNames)
    var command: String?

    @Argument(
        help: ArgumentHelp("Command arguments: NAME=VALUE (converted to the argument's type) or NAME:=JSON.", valueName: "argument"),
        completion: Completion.arguments)
    var arguments: [String] = []

    @Option(
        name: [.customShort("t"), .customLong("target")],
        help: ArgumentHelp("A target (repeatable); the first word is then the command.", valueName: "target"),
        completion: DomainCompletion.names, transform: Target.argument)
    var targetOptions: [Target] = []

    @Option(help: ArgumentHelp("Command arguments as one JSON object.", valueName: "json"))
    var args: String?

    @Flag(name: .customLong("no-check"), help: "Send the arguments as typed (NAME=VALUE as a string), without checking them against the catalogue.")
    var noCheck = false

    @Option(
        help: ArgumentHelp("Print what a command takes and returns, and exit (no target needed).", valueName: "command"),
        completion: Completion.commandNames)
    var describe: String?

    @Flag(help: "With --describe: print the description as JSON (on one line with --compact).")
    var json = false

    func validate() throws {
        if let describe {
            guard target == nil, command == nil, args == nil, !noCheck, targetOptions.isEmpty, !fanOut.all else {
                throw ValidationError("--describe takes a command name only, no target")
            }
            guard !output.raw else { throw ValidationError("--raw does not go with --describe") }
            guard Catalogue.info(describe) != nil else {
                throw ValidationError("'\(describe)' is not in the catalogue (QEMU \(Catalogue.schemaVersion)'s schema); 'qga commands' lists it")
            }
            return
        }
        let (targets, words) = try split()
        guard !targets.isEmpty || fanOut.all else { throw ValidationError("Missing expected argument '<target>'") }
        guard !words.isEmpty else { throw ValidationError("Missing expected argument '<command>'") }
        if fanOut.all && !targets.isEmpty { throw ValidationError("--all takes no targets") }
        if json { throw ValidationError("--json goes with --describe (exec prints JSON anyway)") }
        if output.raw && fanOut.isFanOut(targets) { throw ValidationError("--raw goes with one target") }
        _ = try request()
    }

    /// The command line's targets and the words from the command on: the positional words
    /// before the first that starts with guest- or `{` (or just the first, when none does),
    /// or with -t or --all none of them.
    func split() throws -> (targets: [Target], words: [String]) {
        // The first word was read as a target; as written, it is its description.
        let words = [target?.description, command].compactMap { $0 } + arguments
        if fanOut.all || !targetOptions.isEmpty { return (targetOptions, words) }
        let count = Exec.targetCount(words)
        var targets: [Target] = target.map { [$0] } ?? []
        for word in words.dropFirst().prefix(max(0, count - 1)) {
            do {
                targets.append(try Target(parsing: word))
            } catch {
                throw ValidationError("\(word): \(error.message)")
            }
        }
        return (targets, Array(words.dropFirst(count)))
    }

    /// How many of the positional words are targets: those before the first (after the
    /// first word, always a target) that starts with guest- or is a JSON request; one when
    /// no later word does.
    static func targetCount(_ words: [String]) -> Int {
        guard words.count > 1 else { return words.count }
        return words.indices.dropFirst().first { words[$0].hasPrefix("guest-") || words[$0].hasPrefix("{") } ?? 1
    }

    func run() throws {
        if let describe, let info = Catalogue.info(describe) {
            if json {
                try Console.print(Describe.json(info), with: output.printer)
            } else {
                for line in Describe.text(info) { try Console.line(line) }
            }
            return
        }
        let (targets, _) = try split()
        let request = try request()
        if !noCheck && Catalogue.info(request.execute) == nil {
            Console.error("qga: warning: \(request.execute) is not in the catalogue (QEMU \(Catalogue.schemaVersion)'s schema); sending it unchecked")
        }
        guard !fanOut.isFanOut(targets), let target = targets.first else { return try runMany(request, targets: targets) }
        let reply = try agent.connect(target).execute(request, options: agent.callOptions)
        try output.print(reply)
        if let reply, case .failure(let error, _) = reply.incoming {
            throw ClientError(.agentError(error), error.description)
        }
    }

    /// Several targets: one JSON line each, in the targets' order.
    private func runMany(_ request: Request, targets: [Target]) throws {
        let plan = FanOutPlan(targets: targets, fanOut: fanOut, agent: agent)
        let options = agent.callOptions
        var printer = output.printer
        printer.layout = .compact
        var report = FanOutReport()
        try plan.run({ _, connection -> JSONValue in
            guard let reply = try connection.execute(request, options: options) else { return .null }
            switch reply.incoming {
            case .success(let value, _): return value
            case .failure(let error, _): throw ClientError(.agentError(error), error.description)
            case .event: return .null
            }
        }, deliver: { target, result in
            switch result {
            case .success(let value):
                report.succeeded()
                try Console.print(FanOutReport.jsonLine(target, value: value), with: printer)
            case .failure(let error):
                try report.failed(target, error, json: printer)
            }
        })
        try report.finish()
    }

    /// The request the command line describes; usage errors are `ValidationError`s.
    func request() throws -> Request {
        let words = try split().words
        do {
            return try RequestBuilder.build(command: words.first ?? "", arguments: Array(words.dropFirst()), argsJSON: args, check: !noCheck)
        } catch {
            throw ValidationError(error.message)
        }
    }
}
