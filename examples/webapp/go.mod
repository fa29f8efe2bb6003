module github.com/oauth2provider/oauth2provider/examples/webapp

go 1.26.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/oauth2provider/oauth2provider v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/oauth2provider/oauth2provider => ../..
