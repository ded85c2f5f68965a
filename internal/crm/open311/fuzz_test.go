package open311_test

import (
	"net/url"
	"testing"

	"kontakt/internal/crm/open311"
)

func FuzzDecodeRequest(f *testing.F) {
	f.Add("api_key=k&service_code=pothole&lat=51.75&long=19.45&description=Dziura&attribute%5Bsize%5D=small")
	f.Add("service_code=stray_animal&address_string=Piotrkowska+1&attribute%5Banimal%5D%5B%5D=dog&attribute%5Banimal%5D%5B%5D=cat")
	f.Add("lat=NaN&long=1e400&attributex=1&attribute%5B%5D=2")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		r, errs := open311.DecodeRequest(v)
		for _, e := range errs {
			if e.Code != 400 || e.Description == "" {
				t.Fatalf("error %+v", e)
			}
		}
		if len(errs) == 0 {
			if r.ServiceCode == "" || (r.Lat == nil && r.AddressString == "" && r.AddressID == "") {
				t.Fatalf("accepted %+v", r)
			}
			if (r.Lat == nil) != (r.Long == nil) || (r.Lat != nil && (*r.Lat != *r.Lat || *r.Lat > 90 || *r.Lat < -90)) {
				t.Fatalf("accepted coordinates %v %v", r.Lat, r.Long)
			}
		}
	})
}

func FuzzParseID(f *testing.F) {
	f.Add("2026-000123")
	f.Add("2026000123")
	f.Add("2026/1")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := open311.ParseID(s)
		if err != nil {
			return
		}
		back, err := open311.ParseID(open311.ID(n))
		if err != nil || back != n {
			t.Fatalf("%q → %v → %q → %v %v", s, n, open311.ID(n), back, err)
		}
	})
}
