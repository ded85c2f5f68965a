package open311

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
)

// The documents of GeoReport v2, with the element names of the specification's examples. JSON
// lists are arrays; XML lists are wrapped (services, service_requests, errors).

// Service is one entry of services.{format}.
type Service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	Code        string   `json:"service_code" xml:"service_code"`
	Name        string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

type servicesXML struct {
	XMLName xml.Name  `xml:"services"`
	Items   []Service `xml:"service"`
}

// Definition is services/{code}.{format}: the attributes a service asks for.
type Definition struct {
	XMLName    xml.Name    `json:"-" xml:"service_definition"`
	Code       string      `json:"service_code" xml:"service_code"`
	Attributes []Attribute `json:"attributes" xml:"attributes>attribute"`
}

// Attribute is one question of a service definition.
type Attribute struct {
	Variable            bool    `json:"variable" xml:"variable"`
	Code                string  `json:"code" xml:"code"`
	Datatype            string  `json:"datatype" xml:"datatype"`
	Required            bool    `json:"required" xml:"required"`
	DatatypeDescription *string `json:"datatype_description" xml:"-"`
	// DatatypeDescriptionXML is the same, as XML writes an empty one.
	DatatypeDescriptionXML string  `json:"-" xml:"datatype_description"`
	Order                  int     `json:"order" xml:"order"`
	Description            string  `json:"description" xml:"description"`
	Values                 []Value `json:"values,omitempty" xml:"values>value,omitempty"`
}

// Value is one choice of a list attribute.
type Value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

// Request is one service request as GET requests returns it. It carries nothing about the
// resident who filed it.
type Request struct {
	XMLName           xml.Name `json:"-" xml:"request"`
	ID                string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	Requested         string   `json:"requested_datetime" xml:"requested_datetime"`
	Updated           string   `json:"updated_datetime" xml:"updated_datetime"`
	Expected          string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               *float64 `json:"lat" xml:"lat,omitempty"`
	Long              *float64 `json:"long" xml:"long,omitempty"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
}

type requestsXML struct {
	XMLName xml.Name `xml:"service_requests"`
	Items   any
}

// Created is the answer to POST requests: the new request's id, and a token (the request is
// created at once, so the id is there already).
type Created struct {
	XMLName       xml.Name `json:"-" xml:"request"`
	ID            string   `json:"service_request_id" xml:"service_request_id"`
	Token         string   `json:"token" xml:"token"`
	ServiceNotice string   `json:"service_notice" xml:"service_notice"`
	AccountID     *string  `json:"account_id" xml:"-"`
	AccountIDXML  string   `json:"-" xml:"account_id"`
}

// TokenAnswer is tokens/{token}.{format}.
type TokenAnswer struct {
	XMLName xml.Name `json:"-" xml:"request"`
	ID      string   `json:"service_request_id" xml:"service_request_id"`
	Token   string   `json:"token" xml:"token"`
}

// Error is one error; errors come as a list.
type Error struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

type errorsXML struct {
	XMLName xml.Name `xml:"errors"`
	Items   []Error  `xml:"error"`
}

// write answers in the format asked for: v as JSON, or x as XML.
func write(w http.ResponseWriter, format string, status int, v, x any) {
	if format == "xml" {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte(xml.Header))
		enc := xml.NewEncoder(w)
		enc.Indent("", "  ")
		enc.Encode(x)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErrors(w http.ResponseWriter, format string, status int, errs []Error) {
	write(w, format, status, errs, errorsXML{Items: errs})
}

func writeError(w http.ResponseWriter, format string, status int, desc string) {
	writeErrors(w, format, status, []Error{{Code: status, Description: desc}})
}
