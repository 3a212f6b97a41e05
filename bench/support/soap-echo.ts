/**
 * The baseline of the SOAP layer: an echo service built the way the Node ecosystem does it by default,
 * with the `soap` package (WSDL-driven, SOAP 1.2 binding, document/literal), in its own process.
 * `node --import tsx bench/support/soap-echo.ts PORT`; prints "listening" when ready.
 */
import http from 'node:http';
import soap from 'soap';
import { ECHO_ACTION, ECHO_NS, ECHO_PATH } from './load.js';

function wsdl(port: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions name="EchoService" targetNamespace="${ECHO_NS}" xmlns="http://schemas.xmlsoap.org/wsdl/"
  xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:tns="${ECHO_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <types>
    <xsd:schema targetNamespace="${ECHO_NS}" elementFormDefault="qualified">
      <xsd:element name="EchoRequest"><xsd:complexType><xsd:sequence><xsd:element name="text" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="EchoResponse"><xsd:complexType><xsd:sequence><xsd:element name="text" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </types>
  <message name="EchoInput"><part name="body" element="tns:EchoRequest"/></message>
  <message name="EchoOutput"><part name="body" element="tns:EchoResponse"/></message>
  <portType name="EchoPortType"><operation name="Echo"><input message="tns:EchoInput"/><output message="tns:EchoOutput"/></operation></portType>
  <binding name="EchoBinding" type="tns:EchoPortType">
    <soap12:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="Echo">
      <soap12:operation soapAction="${ECHO_ACTION}"/>
      <input><soap12:body use="literal"/></input>
      <output><soap12:body use="literal"/></output>
    </operation>
  </binding>
  <service name="EchoService"><port name="EchoPort" binding="tns:EchoBinding"><soap12:address location="http://127.0.0.1:${port}${ECHO_PATH}"/></port></service>
</definitions>`;
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error(`usage: soap-echo.ts PORT (got '${process.argv[2]}')`);
const service = { EchoService: { EchoPort: { Echo: (args: { text: string }) => ({ text: args.text }) } } };
const server = http.createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  // forceSoap12Headers: answer in a SOAP 1.2 envelope (application/soap+xml), as the request came.
  soap.listen(server, { path: ECHO_PATH, services: service, xml: wsdl(port), forceSoap12Headers: true, callback: () => console.log('listening') });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
