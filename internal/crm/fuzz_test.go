package crm_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"kontakt/internal/crm"
	"kontakt/internal/ticket"
)

// decodeErr checks that a decoder failed the way the API reports: a bad request or invalid fields,
// each field named.
func decodeErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var br *crm.BadRequest
	var ve *crm.ValidationError
	switch {
	case errors.As(err, &br):
		if len(br.Fields) == 0 || br.Fields[0].Field == "" {
			t.Fatalf("bad request without a field: %v", err)
		}
	case errors.As(err, &ve):
		if len(ve.Fields) == 0 || ve.Fields[0].Field == "" {
			t.Fatalf("validation error without a field: %v", err)
		}
	default:
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
}

func FuzzDecodeNewTicket(f *testing.F) {
	f.Add([]byte(`{"channel":"web_form","category":"pothole","description":"Dziura","address":{"text":"ul. Piotrkowska 1","lat":51.7,"lon":19.4}}`))
	f.Add([]byte(`{"channel":"phone"}`))
	f.Add([]byte(`{"channel":5}`))
	f.Add([]byte(`{"attributes":{"a":"b"},"caller_phone":"+48 600"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		nt, err := crm.DecodeNewTicket(body)
		decodeErr(t, err)
		if err == nil && nt.Channel == ticket.ChannelUnknown {
			t.Fatalf("decoded without a channel: %s", body)
		}
	})
}

func FuzzDecodeAction(f *testing.F) {
	f.Add([]byte(`{"action":"forward","unit":"roads_transport","note":"x"}`))
	f.Add([]byte(`{"action":"report","how":"done","when":"2026-05-04T10:00:00+02:00"}`))
	f.Add([]byte(`{"action":"reassign","to":-1}`))
	f.Add([]byte(`{"action":"add_contact","channel":"phone","level":"owner"}`))
	f.Add([]byte(`{"action":"classify","kind":"intervention","category":"pothole"}{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := crm.DecodeAction(body)
		decodeErr(t, err)
		if err == nil && (r.Action == ticket.ActionUnknown || r.To < 0) {
			t.Fatalf("decoded %+v from %s", r, body)
		}
	})
}

func FuzzDecodeArticle(f *testing.F) {
	f.Add([]byte(`{"title":"Dowód osobisty","valid_from":"2026-01-01","keywords":["dowód"],"documents":[{"name":"Wniosek","kind":"submit"}],"version":2}`))
	f.Add([]byte(`{"fees":{"stamp_duty":"brak"},"handlers":["a","b"],"related":[1,2]}`))
	f.Add([]byte(`{"title":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, err := crm.DecodeArticle(body)
		decodeErr(t, err)
	})
}

// FuzzDecodeOther feeds the smaller bodies: edit, link, article used, category, unit.
func FuzzDecodeOther(f *testing.F) {
	f.Add(byte(0), []byte(`{"description":"x","address":{"street":"Piotrkowska"}}`))
	f.Add(byte(1), []byte(`{"into":"2026/000123"}`))
	f.Add(byte(2), []byte(`{"article_id":7}`))
	f.Add(byte(3), []byte(`{"code":"playground","name":"Plac zabaw","kind":"intervention","unit":"green_areas","due":"5d","attributes":[{"code":"a","datatype":"string"}]}`))
	f.Add(byte(4), []byte(`{"code":"x","name":"X","active":false}`))
	f.Add(byte(5), []byte(`{"name":"Portal","channel":"web_form"}`))
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		var err error
		switch which % 6 {
		case 5:
			_, _, err = crm.DecodeOpen311Client(body)
		case 0:
			_, err = crm.DecodeEdit(body)
		case 1:
			var into string
			into, err = crm.DecodeLink(body)
			if err == nil && strings.TrimSpace(into) == "" {
				t.Fatal("empty link target accepted")
			}
		case 2:
			var id int64
			id, err = crm.DecodeUseArticle(body)
			if err == nil && id <= 0 {
				t.Fatal("article id not positive")
			}
		case 3:
			var c crm.Category
			c, err = crm.DecodeCategory(body)
			if err == nil {
				if _, perr := ticket.ParseDueRule(c.Due.String()); perr != nil {
					t.Fatalf("due %v does not round-trip", c.Due)
				}
			}
		case 4:
			_, err = crm.DecodeUnit(body)
		}
		decodeErr(t, err)
	})
}

func FuzzParseFilter(f *testing.F) {
	f.Add("status=new,in_progress&unit=roads_transport&overdue=true&limit=20&cursor=100")
	f.Add("number=2026-000123&caller_phone=%2B48600100200&owner=7")
	f.Add("limit=0&status=&number=2026/")
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		flt, err := crm.ParseFilter(v)
		decodeErr(t, err)
		if err == nil && (flt.Limit < 0 || flt.Limit > 200 || flt.Before < 0) {
			t.Fatalf("accepted %+v", flt)
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	f.Add("ul. Piotrkowska 110, Łódź")
	f.Add("al. Kościuszki 5/7")
	f.Add("Plac Wolności")
	f.Fuzz(func(t *testing.T, s string) {
		street, number := crm.ParseAddress(s)
		if len(street)+len(number) > len(s) {
			t.Fatalf("%q → %q %q: longer than the input", s, street, number)
		}
		if utf8.ValidString(s) && (!utf8.ValidString(street) || !utf8.ValidString(number)) {
			t.Fatalf("%q → invalid UTF-8", s)
		}
		_ = crm.StreetKey(street)
		b, _ := json.Marshal(crm.Address{Street: street, HouseNumber: number})
		var back crm.Address
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
	})
}
