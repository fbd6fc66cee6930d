// aedes (npm) on 127.0.0.1 for the broker suite (issue 22):
//   node aedes_broker.mjs <folder npm installed aedes into> <port>
// In-memory persistence (aedes' default): retained messages, persistent
// sessions and wills live as long as this process. Prints "ready <port>"
// once it listens; ends on SIGTERM.
import net from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [dir, portArg] = process.argv.slice(2)
const port = Number(portArg)
if (!dir || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node aedes_broker.mjs <aedes folder> <port>')
  process.exit(2)
}

const entry = pathToFileURL(path.join(dir, 'node_modules', 'aedes', 'aedes.js'))
const { Aedes } = await import(entry.href)
const broker = await Aedes.createBroker()
const server = net.createServer(broker.handle)

broker.on('clientError', (client, err) => {
  console.log('client error', client ? client.id : '-', err.message)
})
broker.on('connectionError', (client, err) => {
  console.log('connection error', client ? client.id : '-', err.message)
})

server.on('error', (err) => {
  console.error('listen failed:', err.message)
  process.exit(1)
})
server.listen(port, '127.0.0.1', () => {
  console.log('ready', port)
})

process.on('SIGTERM', () => {
  server.close()
  broker.close(() => process.exit(0))
})
