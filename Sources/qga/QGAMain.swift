import QGACommands

@main extension QGA {}
