import QGAClient
import QGAProtocol
import Testing

@testable import QGACommands

/// Several targets' output in process: the JSON lines' shape, the merged table, run's
/// prefixed lines, and how exec tells its targets from its command.
@Suite struct FanOutOutputTests {
    let web1 = FanOutTarget(place: .given(.domain("web1")), name: "web1", uri: nil)

    func text(_ value: JSONValue) -> String {
        String(decoding: JSONPrinter(layout: .compact).bytes(value), as: UTF8.self)
    }

    @Test func jsonLines() {
        #expect(text(FanOutReport.jsonLine(web1, value: .object(["host-name": "vm"]))) == #"{"target":"web1","return":{"host-name":"vm"}}"#)
        let agent = ClientError(.agentError(AgentError(errorClass: "CommandNotFound", desc: "no such command")), "x")
        #expect(text(FanOutReport.jsonLine(web1, error: agent)) == #"{"target":"web1","error":{"class":"CommandNotFound","desc":"no such command","exit":1}}"#)
        let gone = ClientError(.unreachable, "/run/x.sock: no agent socket here")
        let socket = FanOutTarget(place: .given(.unix(path: "/run/x.sock")), name: "/run/x.sock", uri: nil)
        #expect(text(FanOutReport.jsonLine(socket, error: gone)) == #"{"target":"/run/x.sock","error":{"class":"Unreachable","desc":"/run/x.sock: no agent socket here","exit":2}}"#)
        let late = ClientError(.notResponding, "timed out")
        let remote = FanOutTarget(place: .domain(name: "db", uri: "qemu+ssh://h/system"), name: "db", uri: "qemu+ssh://h/system")
        #expect(text(FanOutReport.jsonLine(remote, error: late)) == #"{"target":"db","connect":"qemu+ssh://h/system","error":{"class":"NotResponding","desc":"timed out","exit":3}}"#)
    }

    @Test func tablesGetATargetColumnAndSingleValuesOneRowEach() {
        let ping = HumanView.value("ok", column: "PING")
        #expect(ping.lines == ["ok"])
        #expect(HumanView.combine([("web1", ping), ("/run/vm2.sock", ping)]) == ["TARGET         PING", "web1           ok", "/run/vm2.sock  ok"])
        let a = HumanView.table(header: ["USER", "LOGIN (UTC)"], rows: [["root", "2026-01-01 00:00:00"]])
        let b = HumanView.table(header: ["USER", "DOMAIN", "LOGIN (UTC)"], rows: [["bob", "CORP", "x"], ["eve", "", "y"]])
        #expect(HumanView.combine([("a", a), ("b", b)]) == [
            "TARGET  USER  LOGIN (UTC)          DOMAIN",
            "a       root  2026-01-01 00:00:00",
            "b       bob   x                    CORP",
            "b       eve   y",
        ])
        // Free-form views fall back to one prefixed line each.
        #expect(HumanView.combine([("a", ["one", "two"]), ("b", ping)]) == ["a: one", "a: two", "b: ok"])
        #expect(HumanView.combine([]) == [])
    }

    @Test func runOutputIsPrefixedLineByLine() {
        let prefix = Array("web1: ".utf8)
        let text = { (bytes: [UInt8], terminal: Bool) in
            String(decoding: RunOutput.prefixed(bytes, with: prefix, terminal: terminal), as: UTF8.self)
        }
        #expect(text(Array("a\nb\n".utf8), false) == "web1: a\nweb1: b\n")
        #expect(text(Array("a\n\nlast".utf8), false) == "web1: a\nweb1: \nweb1: last\n")
        #expect(text([], false) == "")
        #expect(text(Array("\u{1B}[2J\n".utf8), true) == "web1: \\u001b[2J\n")
        #expect(RunWords.split(["web1", "web2", "uname", "-r"], arguments: ["qga", "run", "web1", "-j", "2", "web2", "--", "uname", "-r"]) == (["web1", "web2"], ["uname", "-r"]))
        #expect(RunWords.split(["web1"], arguments: ["qga", "run", "web1"]) == (["web1"], []))
    }

    @Test func execTellsTargetsFromTheCommand() {
        #expect(Exec.targetCount(["web1", "guest-ping"]) == 1)
        #expect(Exec.targetCount(["web1", "web2", "/run/x.sock", "guest-ping", "a=guest-x"]) == 3)
        #expect(Exec.targetCount(["web1", #"{"execute":"guest-ping"}"#]) == 1)
        #expect(Exec.targetCount(["web1", "web2", #"{"execute":"guest-ping"}"#]) == 2)
        // A command that does not start with guest-: the first word alone is the target.
        #expect(Exec.targetCount(["web1", "my-command", "x=1"]) == 1)
        #expect(Exec.targetCount(["guest-ping"]) == 1)
    }
}
