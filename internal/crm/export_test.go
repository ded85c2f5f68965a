package crm

func SearchSQLForTest(s *Service, q ArticleQuery) (string, []any) { return s.searchSQL(q) }
