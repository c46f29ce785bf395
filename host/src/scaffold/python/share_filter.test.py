
    def test_an_open_bill_is_emailed_after_the_delay_and_a_void_one_is_skipped(self):
        def request(status):
            document = types.Document(document_id=1, kind=types.DocumentKind.BILL, client_id=7, total=15000,
                                      paid=0, status=status)
            client = types.ClientBilling(client_id=7, email_on_file=True, email_allowed=True,
                                         auto_superbills=False, auto_share=True, autopay=False, card_on_file=False)
            return types.ShareRequest(document=document, client=client)

        decisions = app.ShareFilter().decide_shares(practice(), [request(types.DocumentStatus.OPEN),
                                                                 request(types.DocumentStatus.VOID)])
        self.assertEqual(decisions, [types.ShareDecision_Send(60), types.ShareDecision_Skip("the document is void")])
