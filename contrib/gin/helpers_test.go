package ginoauth_test

import "github.com/gin-gonic/gin"

// The fixture provider, the request helpers and the checks shared with
// contrib/echo live in internal/adaptertest.

func init() { gin.SetMode(gin.TestMode) }
